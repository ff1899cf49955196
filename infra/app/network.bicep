// Private networking for the app's storage (main.bicep, vnetEnabled): a virtual network the Function App
// joins for its outbound calls, and private endpoints for the storage account's blob, queue and table
// services, each resolved through its own private DNS zone linked to that network. With these in place
// the storage account turns its public endpoint off (storage.bicep, privateNetworking), so the Functions
// host (AzureWebJobsStorage, by identity), the Flex Consumption deployment package and the app's queues,
// tables and report blobs are reached only from inside the network.
//
// Flex Consumption joins a subnet delegated to Microsoft.App/environments, not Microsoft.Web/serverFarms as
// the App Service plans do (Learn: azure-functions/functions-networking-options.md, "Subnets"; the same
// delegation as the Azure-Samples functions-quickstart-*-azd templates' app/vnet.bicep). The app is pointed at
// the subnet with Microsoft.Web/sites properties.virtualNetworkSubnetId (function-app.bicep). The module
// finishes only when every resource in it has, so a consumer of appSubnetId (the app) starts after the
// endpoints and their DNS records exist.

param name string
param location string
param tags { *: string } = {}

@description('Address space of the virtual network; the app subnet is its first /24 and the private endpoint subnet its second.')
param addressPrefix string = '10.0.0.0/16'

@description('DNS suffix of the cloud\'s storage endpoints (environment().suffixes.storage: core.windows.net in the public cloud).')
param storageDnsSuffix string

@description('Resource id of the storage account that gets the private endpoints.')
param storageAccountId string

// Learn (storage/common/storage-private-endpoints.md): one private endpoint per storage service, each
// with the service as its group id and the zone privatelink.<service>.<storage suffix>.
var storageServices = [
  'blob'
  'queue'
  'table'
]

// A /24 each: the app subnet's addresses go to the app's instances, and a /24 leaves far more than the
// default maximumInstanceCount (2) needs.
var appSubnetName = 'snet-app'
var appSubnetPrefix = cidrSubnet(addressPrefix, 24, 0)
var endpointSubnetName = 'snet-private-endpoints'
var endpointSubnetPrefix = cidrSubnet(addressPrefix, 24, 1)

// Both subnets are declared inline: subnets as child resources of a network declared without them are
// removed again when the network is redeployed.
resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: appSubnetName
        properties: {
          addressPrefix: appSubnetPrefix
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: endpointSubnetName
        properties: {
          addressPrefix: endpointSubnetPrefix
          // Network policies (NSG, UDR) on private endpoints are not needed here; Disabled is the default.
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }

  resource appSubnet 'subnets' existing = {
    name: appSubnetName
  }

  resource endpointSubnet 'subnets' existing = {
    name: endpointSubnetName
  }
}

// In the public cloud these are privatelink.{blob,queue,table}.core.windows.net, the zones Azure's public DNS
// answers the account's names with a CNAME into once the account has private endpoints.
resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for service in storageServices: {
    name: 'privatelink.${service}.${storageDnsSuffix}'
    location: 'global'
    tags: tags
  }
]

// Without the link the app's resolver never sees the zone and storage names resolve to the public,
// now closed, endpoint.
resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (service, i) in storageServices: {
    parent: zones[i]
    name: '${name}-link'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

resource endpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for service in storageServices: {
    name: 'pe-${last(split(storageAccountId, '/'))}-${service}'
    location: location
    tags: tags
    properties: {
      subnet: {
        id: vnet::endpointSubnet.id
      }
      privateLinkServiceConnections: [
        {
          name: service
          properties: {
            privateLinkServiceId: storageAccountId
            groupIds: [
              service
            ]
          }
        }
      ]
    }
  }
]

// The zone group writes the endpoint's A record into its zone (and removes it with the endpoint).
resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (service, i) in storageServices: {
    parent: endpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: service
          properties: {
            privateDnsZoneId: zones[i].id
          }
        }
      ]
    }
  }
]

@description('The subnet the Function App joins (delegated to Microsoft.App/environments).')
output appSubnetId string = vnet::appSubnet.id
output vnetId string = vnet.id
