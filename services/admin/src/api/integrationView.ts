import { notFound } from './errors.js';
import { readIntegration, type Db } from '../integrations/store.js';
import { integrationView, type IntegrationView } from '../integrations/views.js';

/** The integration as the API shows it, or 404. */
export const viewOf = async (db: Db, id: string): Promise<IntegrationView> => {
  const row = await readIntegration(db, id);
  if (!row) throw notFound(`integration ${id}`);
  return integrationView(row);
};
