// The app's storage account: Functions host storage, the Flex Consumption deployment package, the
// Event Grid dead-letter container and the app's own queues and tables. Keyless: shared keys are off,
// every caller authenticates with Entra ID.

param name string
param location string
param tags { *: string } = {}

@description('Blob container that holds the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Blob container Event Grid writes undeliverable events to.')
param deadLetterContainerName string

@description('Queues the app uses.')
param queueNames string[] = []

@description('Tables the app uses.')
param tableNames string[] = []

@description('The app identity: data-plane access to blobs, queues and tables.')
param appPrincipalId string

@description('The Event Grid system topic identity: writes dead-lettered events. Empty to skip.')
param deadLetterWriterPrincipalId string = ''

@description('Optional extra principal (e.g. the deploying user) that may read dead-lettered events.')
param readerPrincipalId string = ''

@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param readerPrincipalType string = 'User'

@description('Close the public endpoint: only the private endpoints network.bicep creates reach the account.')
param privateNetworking bool = false

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}
// The Functions host manages blob leases and containers itself, hence Owner rather than Contributor.
var appRoles = [
  roles.storageBlobDataOwner
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Private: the public endpoint is off and the firewall denies by default. The trusted-services
    // exception stays, for Event Grid's dead-letter writes: a system topic writes with its system-assigned
    // identity, the one kind Event Grid can use through a storage firewall (Learn: event-grid/
    // handler-storage-queues.md, note on firewalls). Whether Azure honours that exception while
    // publicNetworkAccess is Disabled is not verified here (docs: check dead-lettering after deploying).
    publicNetworkAccess: privateNetworking ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: privateNetworking ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }

  resource blobServices 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
    }

    resource deadLetterContainer 'containers' = {
      name: deadLetterContainerName
    }
  }

  resource queueServices 'queueServices' = {
    name: 'default'

    resource queue 'queues' = [
      for queueName in queueNames: {
        name: queueName
      }
    ]
  }

  resource tableServices 'tableServices' = {
    name: 'default'

    resource table 'tables' = [
      for tableName in tableNames: {
        name: tableName
      }
    ]
  }
}

resource appRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in appRoles: {
    name: guid(storage.id, appPrincipalId, roleId)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Scoped to the dead-letter container only: the topic never needs the rest of the account.
resource deadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deadLetterWriterPrincipalId)) {
  name: guid(storage::blobServices::deadLetterContainer.id, deadLetterWriterPrincipalId, roles.storageBlobDataContributor)
  scope: storage::blobServices::deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: deadLetterWriterPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource deadLetterReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(readerPrincipalId)) {
  name: guid(storage::blobServices::deadLetterContainer.id, readerPrincipalId, roles.storageBlobDataReader)
  scope: storage::blobServices::deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: readerPrincipalId
    principalType: readerPrincipalType
  }
}

output id string = storage.id
output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
output deploymentContainerName string = storage::blobServices::deploymentContainer.name
output deadLetterContainerName string = storage::blobServices::deadLetterContainer.name
