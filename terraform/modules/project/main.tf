/**
 * APIs and identities. One service account per function so every grant elsewhere names exactly the
 * function that needs it; the pipeline account runs data plumbing (Firestore export, BigQuery loads and
 * scheduled queries); the deployer account is what Cloud Build runs as; the build account is what Cloud
 * Build runs as when it builds a function's image from its source archive.
 *
 * Everything here waits for the APIs (depends_on), and every other module waits for this one (platform),
 * so a first apply on an empty project never calls an API before it is enabled.
 */
locals {
  apis = [
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "bigquerydatatransfer.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudkms.googleapis.com",
    # IAM policy reads and writes on the project (google_project_iam_member, data.google_project).
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "compute.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "iamcredentials.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
    "storage.googleapis.com",
    "vpcaccess.googleapis.com",
  ]

  # Google-managed service agents this configuration grants roles to. They are created lazily by Google
  # on first use of their API, so a first apply would grant a role to an account that does not exist
  # yet; google_project_service_identity creates them up front (replacing the README's manual
  # `gcloud beta services identity create`).
  service_agents = {
    cloudsql     = "sqladmin.googleapis.com"
    firestore    = "firestore.googleapis.com"
    datatransfer = "bigquerydatatransfer.googleapis.com"
  }

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
  # The deployer runs the pipeline (cloudbuild.yaml): migrations through the Auth Proxy, then
  # `terraform apply` of the functions module with the new release. Terraform refreshes everything the
  # functions depend on before changing them, so the deployer reads the whole project (viewer and
  # securityReviewer: resources and their IAM policies) but may change only functions.
  deployer_roles = [
    "roles/cloudfunctions.developer",
    "roles/cloudsql.client",
    "roles/cloudsql.instanceUser",
    "roles/iam.securityReviewer",
    "roles/logging.logWriter",
    "roles/run.viewer",
    "roles/viewer",
  ]

  # Builds of the functions' images run as this account rather than the project's default build
  # account, which new projects no longer grant these roles (Cloud Build service account change, July
  # 2024). Roles as documented in https://cloud.google.com/run/docs/configuring/services/build-service-account
  # (logs, the image in Artifact Registry, the source archive in Cloud Storage).
  # Named as modules/artifacts names it (test/infra checks they agree).
  artifacts_bucket = "${var.project_id}-lattice-artifacts-${var.environment}"

  build_roles = [
    "roles/artifactregistry.writer",
    "roles/logging.logWriter",
    "roles/storage.objectAdmin",
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

  depends_on = [google_project_service.apis]
}

resource "google_project_iam_member" "function" {
  for_each = local.function_bindings
  project  = var.project_id
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.function[each.value.fn].email}"

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "pipeline" {
  project      = var.project_id
  account_id   = "lattice-data-${var.environment}"
  display_name = "Lattice Lock data pipeline: Firestore export, BigQuery loads and scheduled queries (${var.environment})"

  depends_on = [google_project_service.apis]
}

resource "google_project_iam_member" "pipeline" {
  for_each = toset(local.pipeline_roles)
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.pipeline.email}"

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "deployer" {
  project      = var.project_id
  account_id   = "lattice-deploy-${var.environment}"
  display_name = "Lattice Lock Cloud Build deployer (${var.environment})"

  depends_on = [google_project_service.apis]
}

resource "google_project_iam_member" "deployer" {
  for_each = toset(local.deployer_roles)
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.deployer.email}"

  depends_on = [google_project_service.apis]
}

# The deployer deploys each function as that function's service account, and nothing else.
resource "google_service_account_iam_member" "deployer_acts_as" {
  for_each           = var.functions
  service_account_id = google_service_account.function[each.value].name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.deployer.email}"

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "lattice-build-${var.environment}"
  display_name = "Lattice Lock function image builds (${var.environment})"

  depends_on = [google_project_service.apis]
}

resource "google_project_iam_member" "build" {
  for_each = toset(local.build_roles)
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.build.email}"

  # Object admin on the whole project would reach the analysis artifacts bucket too, which only the
  # projects function may write: the grant leaves that bucket out (an IAM Condition on the resource
  # name, https://cloud.google.com/iam/docs/conditions-resource-attributes#resource-name).
  dynamic "condition" {
    for_each = each.value == "roles/storage.objectAdmin" ? [local.artifacts_bucket] : []
    content {
      title       = "not-the-artifacts-bucket"
      description = "Every bucket but the analysis artifacts bucket (modules/artifacts)"
      expression  = "resource.name != \"projects/_/buckets/${condition.value}\" && !resource.name.startsWith(\"projects/_/buckets/${condition.value}/\")"
    }
  }

  depends_on = [google_project_service.apis]
}

# A function update names its build account, so the deployer must be allowed to act as it.
resource "google_service_account_iam_member" "deployer_acts_as_build" {
  service_account_id = google_service_account.build.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.deployer.email}"

  depends_on = [google_project_service.apis]
}

resource "google_project_service_identity" "agent" {
  provider = google-beta
  for_each = local.service_agents
  project  = var.project_id
  service  = each.value

  depends_on = [google_project_service.apis]
}

# A new service agent, and the roles its API grants it, take time to be usable: IAM changes
# "typically propagate in 2 minutes, potentially 7 minutes or longer"
# (https://cloud.google.com/iam/docs/access-change-propagation). Consumers read the agents' emails
# through this resource's triggers, so nothing grants to or relies on an agent before the wait is over.
resource "time_sleep" "agents_propagation" {
  create_duration = var.propagation_wait
  triggers        = { for key, agent in google_project_service_identity.agent : key => agent.email }
}

# Cloud Storage's service agent is not a service identity: its own API creates it on first read
# (projects.serviceAccount.get, https://cloud.google.com/storage/docs/getting-service-agent), which is
# what this data source calls. It encrypts the CMEK artifacts bucket (modules/kms grants it the key).
data "google_storage_project_service_account" "gcs" {
  project = var.project_id

  depends_on = [google_project_service.apis]
}

data "google_project" "this" {
  project_id = var.project_id

  depends_on = [google_project_service.apis]
}
