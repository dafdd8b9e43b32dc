# State moves of the refactor into modules/platform: keep until every environment has applied once.
moved {
  from = module.project
  to   = module.platform.module.project
}

moved {
  from = module.network
  to   = module.platform.module.network
}

moved {
  from = module.kms
  to   = module.platform.module.kms
}

moved {
  from = module.cloudsql
  to   = module.platform.module.cloudsql
}

moved {
  from = module.bigquery
  to   = module.platform.module.bigquery
}

moved {
  from = module.firestore
  to   = module.platform.module.firestore
}

moved {
  from = module.secrets
  to   = module.platform.module.secrets
}

moved {
  from = module.functions
  to   = module.platform.module.functions
}

moved {
  from = module.scheduler
  to   = module.platform.module.scheduler
}

moved {
  from = module.cicd
  to   = module.platform.module.cicd
}
