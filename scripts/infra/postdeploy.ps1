# azd postdeploy hook (Windows): subscribes the deployed function to the subscription's ARM events.
# azd exports the main deployment's outputs (infra/main.bicep) as environment variables.
$ErrorActionPreference = 'Stop'
Set-Location (Join-Path $PSScriptRoot '../..')

$required = 'AZURE_ENV_NAME', 'AZURE_SUBSCRIPTION_ID', 'AZURE_LOCATION', 'AZURE_FUNCTION_APP_ID',
  'EVENTGRID_SYSTEM_TOPIC_NAME', 'EVENTGRID_SYSTEM_TOPIC_RESOURCE_GROUP', 'DEADLETTER_STORAGE_ACCOUNT_ID',
  'DEADLETTER_CONTAINER_NAME', 'AUTOPILOT_GOVERNED_RESOURCE_TYPES'
foreach ($name in $required) {
  if (-not [Environment]::GetEnvironmentVariable($name)) {
    throw "postdeploy: $name is not set; run 'azd provision' first"
  }
}

# Pass the JSON array through a parameters file: quoting JSON on a pwsh command line is fragile.
$paramsFile = New-TemporaryFile
try {
  @{
    '$schema'      = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#'
    contentVersion = '1.0.0.0'
    parameters     = @{
      systemTopicName              = @{ value = $env:EVENTGRID_SYSTEM_TOPIC_NAME }
      systemTopicResourceGroupName = @{ value = $env:EVENTGRID_SYSTEM_TOPIC_RESOURCE_GROUP }
      functionAppId                = @{ value = $env:AZURE_FUNCTION_APP_ID }
      deadLetterStorageAccountId   = @{ value = $env:DEADLETTER_STORAGE_ACCOUNT_ID }
      deadLetterContainerName      = @{ value = $env:DEADLETTER_CONTAINER_NAME }
      governedResourceTypes        = @{ value = @($env:AUTOPILOT_GOVERNED_RESOURCE_TYPES | ConvertFrom-Json) }
    }
  } | ConvertTo-Json -Depth 5 | Set-Content -Path $paramsFile -Encoding utf8

  Write-Host "postdeploy: subscribing $($env:AZURE_FUNCTION_APP_ID)/functions/resourceWriteSuccess to system topic $($env:EVENTGRID_SYSTEM_TOPIC_NAME)"
  az deployment sub create `
    --subscription $env:AZURE_SUBSCRIPTION_ID `
    --location $env:AZURE_LOCATION `
    --name "identity-autopilot-events-$($env:AZURE_ENV_NAME)" `
    --template-file infra/event-subscription.bicep `
    --parameters "@$paramsFile" `
    --output none
  if ($LASTEXITCODE -ne 0) { throw "postdeploy: az deployment sub create failed ($LASTEXITCODE)" }
  Write-Host 'postdeploy: event subscription identity-autopilot is in place'
  # Every other governed subscription (listed, or under the rules' management groups now), idempotently.
  Write-Host 'postdeploy: wiring every governed subscription (identity-autopilot wire-events)'
  node src/cli/bin.cjs wire-events --function-app-id $env:AZURE_FUNCTION_APP_ID --resource-group $env:EVENTGRID_SYSTEM_TOPIC_RESOURCE_GROUP `
    --location $env:AZURE_LOCATION --dead-letter-storage-id $env:DEADLETTER_STORAGE_ACCOUNT_ID --dead-letter-container $env:DEADLETTER_CONTAINER_NAME
  if ($LASTEXITCODE -ne 0) { throw "postdeploy: wire-events failed ($LASTEXITCODE)" }
}
finally {
  Remove-Item $paramsFile -ErrorAction SilentlyContinue
}
