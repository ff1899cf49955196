// The Event Grid system topic for Azure Resource Manager events of one subscription. Azure allows only
// one such topic per subscription, so an existing one is reused (and must have a system-assigned
// identity, which the dead-letter destination is written with).

@description('Topic name (new or existing).')
param name string

@description('Create the topic; false reuses an existing one of that name in this resource group.')
param create bool

param tags { *: string } = {}

resource newTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = if (create) {
  name: name
  // Subscription-level system topics are global.
  location: 'global'
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: subscription().id
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

resource existingTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = if (!create) {
  name: name
}

output name string = name
output resourceGroupName string = resourceGroup().name
output principalId string = create ? newTopic!.identity.principalId : existingTopic!.identity.principalId
