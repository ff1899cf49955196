// The operations workbook (operations.workbook.json, an Azure Monitor workbook in the Notebook/1.0
// format): event-to-done latency percentiles, outcomes over time, top failing resources, compliance by
// resource type and subscription from the sweeps, ARM calls and queue hand-offs. It is attached to the
// Application Insights component (sourceId) and opens under its Workbooks blade.

param location string
param tags { *: string } = {}

@description('Resource id of the Application Insights component the queries run against.')
param applicationInsightsId string

@description('Workbook display name.')
param displayName string = 'identity-autopilot operations'

// The JSON names its resource by a placeholder, so the file stays valid JSON that a test can parse.
var serializedData = replace(loadTextContent('operations.workbook.json'), '{applicationInsightsId}', applicationInsightsId)

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // Workbook names must be GUIDs.
  name: guid(resourceGroup().id, applicationInsightsId, 'identity-autopilot-operations')
  location: location
  tags: union(tags, { 'hidden-title': displayName })
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: applicationInsightsId
    serializedData: serializedData
  }
}

output id string = workbook.id
