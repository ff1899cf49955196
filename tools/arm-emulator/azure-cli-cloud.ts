/** How the Azure CLI is pointed at the emulator: used by `npm run emulator` (printed) and test/conformance. */
export const CLOUD_NAME = 'IdentityAutopilotEmulator';

export function cloudRegistrationArgs(armUrl: string): string[][] {
  return [
    [
      'cloud',
      'register',
      '--name',
      CLOUD_NAME,
      '--endpoint-resource-manager',
      `${armUrl}/`,
      // The CLI needs a login endpoint and a Graph resource id to accept the cloud; with a managed
      // identity it never calls them.
      '--endpoint-active-directory',
      armUrl,
      '--endpoint-active-directory-resource-id',
      'https://management.core.windows.net/',
      '--endpoint-active-directory-graph-resource-id',
      'https://graph.windows.net/',
    ],
    ['cloud', 'set', '--name', CLOUD_NAME],
  ];
}
