// Subscribes the Function to the system topic. Run after the code is deployed (azure.yaml postdeploy
// hook): Event Grid validates an AzureFunction endpoint when the subscription is created, so the
// function `resourceWriteSuccess` must already exist.
//
//   az deployment sub create --location <region> --template-file infra/event-subscription.bicep \
//     --parameters systemTopicName=... systemTopicResourceGroupName=... functionAppId=... \
//                  deadLetterStorageAccountId=... governedResourceTypes='["Microsoft.Web/sites"]'

targetScope = 'subscription'

@description('The Microsoft.Resources.Subscriptions system topic (main.bicep output EVENTGRID_SYSTEM_TOPIC_NAME).')
param systemTopicName string

@description('Its resource group (EVENTGRID_SYSTEM_TOPIC_RESOURCE_GROUP).')
param systemTopicResourceGroupName string

@description('Resource id of the Function App (AZURE_FUNCTION_APP_ID).')
param functionAppId string

@description('Name of the Event Grid triggered function.')
param functionName string = 'resourceWriteSuccess'

@description('Storage account for dead-lettered events (DEADLETTER_STORAGE_ACCOUNT_ID).')
param deadLetterStorageAccountId string

param deadLetterContainerName string = 'deadletter'

@description('Governed resource types (AUTOPILOT_GOVERNED_RESOURCE_TYPES); only their writes and deletes (and tag writes, Dapr component deletes) are delivered.')
@minLength(1)
// A StringIn advanced filter holds at most 25 values: a write and a delete per type, the tag write and the Dapr component delete.
@maxLength(11)
// The catalogue's types (src/arm/resource-types.ts); test/architecture/catalogue.test.ts fails if they disagree.
param governedResourceTypes string[] = [
  'Microsoft.Web/sites'
  'Microsoft.Web/sites/slots'
  'Microsoft.App/containerApps'
  'Microsoft.App/jobs'
  'Microsoft.Compute/virtualMachines'
  'Microsoft.Compute/virtualMachineScaleSets'
  'Microsoft.ContainerInstance/containerGroups'
  'Microsoft.ContainerService/managedClusters'
]

@minLength(3)
@maxLength(64)
param eventSubscriptionName string = 'identity-autopilot'

module eventSubscription 'app/event-subscription.bicep' = {
  name: 'identity-autopilot-event-subscription'
  scope: resourceGroup(systemTopicResourceGroupName)
  params: {
    systemTopicName: systemTopicName
    name: eventSubscriptionName
    functionAppId: functionAppId
    functionName: functionName
    // Tags set after creation (the Tags API, as IaC tools often do) arrive as `Microsoft.Resources/tags/write`
    // on `<resource id>/providers/Microsoft.Resources/tags/default`; tags select rules and profiles, so
    // they must reach the Function, which re-evaluates the parent resource.
    // A delete starts the clean-up of what the product made for the resource (the Function first asks ARM
    // whether it is really gone); a deleted Dapr component re-plans the apps it served.
    operationNames: concat(
      map(governedResourceTypes, type => '${type}/write'),
      ['Microsoft.Resources/tags/write'],
      map(governedResourceTypes, type => '${type}/delete'),
      ['Microsoft.App/managedEnvironments/daprComponents/delete']
    )
    deadLetterStorageAccountId: deadLetterStorageAccountId
    deadLetterContainerName: deadLetterContainerName
    maxDeliveryAttempts: 30
    eventTimeToLiveInMinutes: 1440
  }
}

output EVENTGRID_SUBSCRIPTION_ID string = eventSubscription.outputs.id
