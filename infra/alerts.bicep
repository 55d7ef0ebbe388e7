// Jacket's alert rules (docs/monitoring.md), as log search alerts over Application Insights: the
// metrics they read are the OpenTelemetry instruments of shared/metrics.ts (customMetrics) and the
// requests the host records. Deployed by main.bicep.
targetScope = 'resourceGroup'

@description('Prefix of the rule names.')
param appName string

@description('Region of the rules.')
param location string

@description('Resource id of the Application Insights component the rules query.')
param insightsId string

@description('Fire when one sweep deletes more than this many resources within 15 minutes.')
param sweepDeleteThreshold int

@description('Fire when more than this percentage of API requests fail with 5xx over 15 minutes.')
param errorRatePercent int

@description('E-mail address for the alerts; empty = no action group (the alerts show in the portal).')
param email string = ''

@description('Tags on every resource.')
param tags object = {}

resource group 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(email)) {
  name: '${appName}-alerts'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'jacket'
    enabled: true
    emailReceivers: [{ name: 'operator', emailAddress: email, useCommonAlertSchema: true }]
  }
}

var rules = [
  {
    name: 'poison-queue'
    severity: 1
    description: 'Work-queue messages landed in the poison queue: a long action\'s worker crashed repeatedly (docs/monitoring.md).'
    query: 'customMetrics | where name == "jacket.work.poison_depth" | summarize depth = max(value)'
    measure: 'depth'
    threshold: 0
    dimensions: []
  }
  {
    name: 'api-error-rate'
    severity: 2
    description: 'More than ${errorRatePercent}% of API requests failed with a 5xx in 15 minutes.'
    query: 'requests | summarize total = count(), failed = countif(toint(resultCode) >= 500) | extend failedPercent = iff(total == 0, 0.0, 100.0 * failed / total)'
    measure: 'failedPercent'
    threshold: errorRatePercent
    dimensions: []
  }
  {
    name: 'sweep-deletes'
    severity: 2
    description: 'A sweep deleted more than ${sweepDeleteThreshold} resources in 15 minutes: check that it was meant to (JACKET_SWEEP_DRY_RUN to pause deletions).'
    query: 'customMetrics | where name == "jacket.sweep.deleted" | extend sweep = tostring(customDimensions.sweep) | summarize deleted = sum(valueSum) by sweep'
    measure: 'deleted'
    threshold: sweepDeleteThreshold
    dimensions: [{ name: 'sweep', operator: 'Include', values: ['*'] }]
  }
  {
    name: 'arm-throttling'
    severity: 3
    description: 'ARM answered 429 (throttled) to Jacket within 15 minutes; long actions are slowed by Retry-After.'
    query: 'customMetrics | where name == "jacket.arm.throttled" | extend operation = tostring(customDimensions.operation) | summarize throttled = sum(valueSum) by operation'
    measure: 'throttled'
    threshold: 0
    dimensions: [{ name: 'operation', operator: 'Include', values: ['*'] }]
  }
]

resource alerts 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = [for r in rules: {
  name: '${appName}-${r.name}'
  location: location
  tags: tags
  properties: {
    displayName: 'Jacket: ${r.name}'
    description: r.description
    severity: r.severity
    enabled: true
    scopes: [insightsId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: r.query
          timeAggregation: 'Maximum'
          metricMeasureColumn: r.measure
          operator: 'GreaterThan'
          threshold: r.threshold
          dimensions: r.dimensions
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: true
    actions: empty(email) ? {} : { actionGroups: [group.id] }
  }
}]

@description('Names of the alert rules.')
output ruleNames array = [for (r, i) in rules: alerts[i].name]
