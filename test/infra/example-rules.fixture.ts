import { join } from 'node:path';

/** What config/rules.example.yaml holds, for the tests that derive the app's permissions from it. */
export const EXAMPLE_RULES_PATH = join(__dirname, '..', '..', 'config', 'rules.example.yaml');
export const EXAMPLE_SUBSCRIPTION = '00000000-0000-0000-0000-000000000001';
export const EXAMPLE_CUSTOM_ROLE_NAME = 'Contoso App Config Reader';
/** The GUID the tests give that custom role (it cannot be resolved offline). */
export const EXAMPLE_CUSTOM_ROLE_GUID = 'c0c0c0c0-1111-4222-8333-444444444444';
/** Built-in roles the example's profiles grant. */
export const EXAMPLE_ROLE_GUIDS = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
} as const;
