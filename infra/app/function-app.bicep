// The Function App on the Flex Consumption plan (FC1), running as its user-assigned identity: host
// storage, the deployment package and telemetry are all reached without keys or connection strings.

param name string
param planName string
param location string
param tags { *: string } = {}

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity.')
param identityClientId string

param storageBlobEndpoint string
param storageQueueEndpoint string
param storageTableEndpoint string
param deploymentContainerName string

param applicationInsightsConnectionString string

// Flex Consumption allows 1 (Learn: azure-functions/event-driven-scaling.md; older text said 40). The
// limit applies per scale group (HTTP, Event Grid and queue triggers scale apart), and 2 is what the
// pacing benchmark (bench/README.md) ran with: several instances share one ARM budget per principal.
@description('Most instances per scale group (1-1000). Default 2, the count the ARM pacing was benchmarked with.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 2

@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

// Node versions Flex Consumption offers for the v4 model are listed per region by
// `az functionapp list-flexconsumption-runtimes --location <region> --runtime node` (Microsoft.Web
// functionAppStacks, FC1 sku: functionAppConfigProperties.runtime {name: 'node', version: '22'}; Learn
// "Supported languages in Azure Functions" lists 22 and 24 for the v4 model, 20 is past end of life).
// The code stays compatible with Node 20 (package.json engines, esbuild target node20).
@allowed([
  '22'
  '24'
])
@description('Node.js major version of the Functions runtime.')
param nodeVersion string = '22'

@description('Rules file path, relative to the deployed package root.')
param rulesPath string = 'config/rules.yaml'

@description('Azure Resource Manager endpoint the engine calls; default: the current cloud\'s.')
param armEndpoint string = environment().resourceManager

@description('Client id of the Entra app registration that protects the HTTP API (App Service authentication). Empty: authentication is not configured, and with role checks on every HTTP call is refused.')
param authClientId string = ''

@description('Tenant of that app registration.')
param authTenantId string = tenant().tenantId

@description('Require an app role (Remediation.Apply / Remediation.Read) on every HTTP call. false lets the function key alone do everything.')
param httpRoleChecks bool = true

@minValue(1)
@description('HTTP calls per caller and minute (per instance); more are answered 429.')
param httpRateLimitPerMinute int = 60

@description('Subnet (delegated to Microsoft.App/environments) the app sends its outbound traffic through. Empty: no virtual network.')
param virtualNetworkSubnetId string = ''

@description('NCRONTAB (six fields, seconds first) of the compliance sweep timer: the app setting AUTOPILOT_SWEEP_SCHEDULE.')
param sweepSchedule string = '0 0 * * * *'

@description('Plan and log only, never write to Azure: the app setting AUTOPILOT_DRY_RUN.')
param dryRun bool = false

@allowed([
  'report'
  'enforce'
])
@description('AUTOPILOT_REVOCATION_MODE: enforce lets the rules\' lifecycle.revoke decide; report makes the sweep remove no grant.')
param revocationMode string = 'enforce'

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  // azd finds the app to deploy the `api` service to by this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Outbound only: the HTTP API and the Event Grid webhook keep their public inbound endpoint.
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }

  // A separate resource so the settings are set whole (Flex Consumption rejects FUNCTIONS_WORKER_RUNTIME
  // and FUNCTIONS_EXTENSION_VERSION here: the runtime comes from functionAppConfig).
  resource appSettings 'config' = {
    name: 'appsettings'
    properties: {
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identityClientId
      AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
      AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
      AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
      APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'
      AZURE_CLIENT_ID: identityClientId
      AUTOPILOT_RULES_PATH: rulesPath
      // environment().resourceManager ends with '/'; the app expects the bare origin.
      AUTOPILOT_ARM_ENDPOINT: endsWith(armEndpoint, '/') ? take(armEndpoint, length(armEndpoint) - 1) : armEndpoint
      AUTOPILOT_HTTP_ROLE_CHECKS: httpRoleChecks ? 'true' : 'false'
      AUTOPILOT_HTTP_RATE_LIMIT_PER_MINUTE: string(httpRateLimitPerMinute)
      AUTOPILOT_SWEEP_SCHEDULE: sweepSchedule
      AUTOPILOT_DRY_RUN: dryRun ? 'true' : 'false'
      AUTOPILOT_REVOCATION_MODE: revocationMode
    }
  }

  // App Service authentication (Easy Auth): validates the caller's Entra token for the app
  // registration and hands the app its claims in x-ms-client-principal; App Service then also sets
  // WEBSITE_AUTH_ENABLED, without which the app believes no such header. The app checks app roles itself.
  resource authSettings 'config' = if (!empty(authClientId)) {
    name: 'authsettingsV2'
    properties: {
      platform: {
        enabled: true
      }
      globalValidation: {
        requireAuthentication: true
        unauthenticatedClientAction: 'Return401'
        // Event Grid delivers to the webhook with the host's system key and no Entra token
        // (Azure-Samples/azure-event-grid-viewer#24: authentication in front drops deliveries);
        // the OpenAPI description is public.
        excludedPaths: [
          '/runtime/webhooks/eventgrid'
          '/api/openapi.json'
        ]
      }
      identityProviders: {
        azureActiveDirectory: {
          enabled: true
          registration: {
            clientId: authClientId
            openIdIssuer: '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'
          }
          validation: {
            allowedAudiences: [
              'api://${authClientId}'
              authClientId
            ]
          }
        }
      }
      login: {
        tokenStore: {
          enabled: false
        }
      }
      httpSettings: {
        requireHttps: true
      }
    }
  }
}

output id string = functionApp.id
output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
