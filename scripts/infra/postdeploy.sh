#!/usr/bin/env bash
# azd postdeploy hook: subscribes the deployed function to the subscription's ARM events.
# azd exports the main deployment's outputs (infra/main.bicep) as environment variables.
set -euo pipefail
cd "$(dirname "$0")/../.."

for name in AZURE_ENV_NAME AZURE_SUBSCRIPTION_ID AZURE_LOCATION AZURE_FUNCTION_APP_ID \
  EVENTGRID_SYSTEM_TOPIC_NAME EVENTGRID_SYSTEM_TOPIC_RESOURCE_GROUP DEADLETTER_STORAGE_ACCOUNT_ID \
  DEADLETTER_CONTAINER_NAME AUTOPILOT_GOVERNED_RESOURCE_TYPES; do
  if [ -z "${!name:-}" ]; then
    echo "postdeploy: $name is not set; run 'azd provision' first" >&2
    exit 1
  fi
done

# The governed types arrive as a JSON array (azd stores array outputs as JSON): pass everything
# through a parameters file rather than quoting JSON on the command line.
params_file="$(mktemp)"
trap 'rm -f "$params_file"' EXIT
node -e '
  const e = process.env;
  const p = (value) => ({ value });
  process.stdout.write(JSON.stringify({
    $schema: "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
    contentVersion: "1.0.0.0",
    parameters: {
      systemTopicName: p(e.EVENTGRID_SYSTEM_TOPIC_NAME),
      systemTopicResourceGroupName: p(e.EVENTGRID_SYSTEM_TOPIC_RESOURCE_GROUP),
      functionAppId: p(e.AZURE_FUNCTION_APP_ID),
      deadLetterStorageAccountId: p(e.DEADLETTER_STORAGE_ACCOUNT_ID),
      deadLetterContainerName: p(e.DEADLETTER_CONTAINER_NAME),
      governedResourceTypes: p(JSON.parse(e.AUTOPILOT_GOVERNED_RESOURCE_TYPES)),
    },
  }, null, 2));
' >"$params_file"

echo "postdeploy: subscribing $AZURE_FUNCTION_APP_ID/functions/resourceWriteSuccess to system topic $EVENTGRID_SYSTEM_TOPIC_NAME"
az deployment sub create \
  --subscription "$AZURE_SUBSCRIPTION_ID" \
  --location "$AZURE_LOCATION" \
  --name "identity-autopilot-events-${AZURE_ENV_NAME}" \
  --template-file infra/event-subscription.bicep \
  --parameters "@$params_file" \
  --output none
echo "postdeploy: event subscription identity-autopilot is in place"

# Every other governed subscription (listed, or under the rules' management groups now): its system topic
# and event subscription, idempotently (docs/deploy.md "Many subscriptions and management groups").
echo "postdeploy: wiring every governed subscription (identity-autopilot wire-events)"
node src/cli/bin.cjs wire-events --function-app-id "$AZURE_FUNCTION_APP_ID" --resource-group "$EVENTGRID_SYSTEM_TOPIC_RESOURCE_GROUP" \
  --location "$AZURE_LOCATION" --dead-letter-storage-id "$DEADLETTER_STORAGE_ACCOUNT_ID" --dead-letter-container "$DEADLETTER_CONTAINER_NAME"
