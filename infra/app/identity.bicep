// The Function App's user-assigned identity. User-assigned (not system-assigned) so its principal
// exists before the app does: storage, telemetry and engine roles can be granted in the same deployment.

param name string
param location string
param tags { *: string } = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
