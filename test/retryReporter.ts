import type { Reporter, TestCase } from 'vitest/node';

/**
 * Names every test that passed only after a retry, so a flaky test is found, not hidden, with
 * the first line of what failed on the earlier try (vitest keeps it on the passing result).
 */
export default class RetryReporter implements Reporter {
  onTestCaseResult(test: TestCase): void {
    const retries = test.diagnostic()?.retryCount ?? 0;
    if (retries === 0) return;
    const firstError = test.result().errors?.[0]?.message?.split('\n')[0];
    console.log(`FLAKY (passed after ${retries} retry): ${test.module.moduleId.split('/').slice(-3).join('/')} > ${test.fullName}${firstError ? ` | first try: ${firstError.slice(0, 300)}` : ''}`);
  }
}
