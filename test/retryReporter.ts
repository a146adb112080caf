import type { Reporter, TestCase } from 'vitest/node';

/** Names every test that passed only after a retry, so a flaky test is found, not hidden. */
export default class RetryReporter implements Reporter {
  onTestCaseResult(test: TestCase): void {
    const retries = test.diagnostic()?.retryCount ?? 0;
    if (retries > 0) console.log(`FLAKY (passed after ${retries} retry): ${test.module.moduleId.split('/').slice(-3).join('/')} > ${test.fullName}`);
  }
}
