/**
 * APIs and identities. One service account per function so every grant elsewhere names exactly the
 * function that needs it; the pipeline account runs data plumbing (Firestore export, BigQuery loads and
 * scheduled queries); the deployer account is what Cloud Build runs as.
 */
locals {
  apis = [
    "bigquery.googleapis.com",
    "bigquerydatatransfer.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudkms.googleapis.com",
    "cloudscheduler.googleapis.com",
    "compute.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
    "vpcaccess.googleapis.com",
    "artifactregistry.googleapis.com",
  ]

  # Project-level roles per function. Resource-level grants (KMS keys, secrets, datasets, buckets) live
  # next to the resource they protect.
  function_roles = {
    auth      = ["roles/cloudsql.client", "roles/cloudsql.instanceUser", "roles/datastore.user"]
    projects  = ["roles/cloudsql.client", "roles/cloudsql.instanceUser"]
    providers = ["roles/cloudsql.client", "roles/cloudsql.instanceUser"]
    jobs      = ["roles/cloudsql.client", "roles/cloudsql.instanceUser", "roles/bigquery.jobUser"]
  }
  function_bindings = merge([
    for fn in var.functions : { for role in lookup(local.function_roles, fn, []) : "${fn}/${role}" => { fn = fn, role = role } }
  ]...)

  pipeline_roles = ["roles/bigquery.jobUser", "roles/datastore.importExportAdmin"]
  deployer_roles = [
    "roles/cloudfunctions.developer",
    "roles/cloudsql.client",
    "roles/cloudsql.instanceUser",
    "roles/logging.logWriter",
    "roles/run.viewer",
  ]
}

resource "google_project_service" "apis" {
  for_each           = toset(local.apis)
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_service_account" "function" {
  for_each     = var.functions
  project      = var.project_id
  account_id   = "lattice-${each.value}-${var.environment}"
  display_name = "Lattice Lock ${each.value} function (${var.environment})"
}

resource "google_project_iam_member" "function" {
  for_each = local.function_bindings
  project  = var.project_id
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.function[each.value.fn].email}"
}

resource "google_service_account" "pipeline" {
  project      = var.project_id
  account_id   = "lattice-data-${var.environment}"
  display_name = "Lattice Lock data pipeline: Firestore export, BigQuery loads and scheduled queries (${var.environment})"
}

resource "google_project_iam_member" "pipeline" {
  for_each = toset(local.pipeline_roles)
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.pipeline.email}"
}

resource "google_service_account" "deployer" {
  project      = var.project_id
  account_id   = "lattice-deploy-${var.environment}"
  display_name = "Lattice Lock Cloud Build deployer (${var.environment})"
}

resource "google_project_iam_member" "deployer" {
  for_each = toset(local.deployer_roles)
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.deployer.email}"
}

# The deployer deploys each function as that function's service account, and nothing else.
resource "google_service_account_iam_member" "deployer_acts_as" {
  for_each           = var.functions
  service_account_id = google_service_account.function[each.value].name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.deployer.email}"
}

data "google_project" "this" {
  project_id = var.project_id
}
