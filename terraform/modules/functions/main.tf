/**
 * The four gen2 functions, each built from its own esbuild bundle (npm run build → dist/<fn>, zipped to
 * <fn>/<source_version>.zip in the source bucket), each running as its own service account.
 *
 * Terraform owns everything but the code: Cloud Build redeploys the code with `gcloud functions deploy`
 * on every merge, so the source (and the labels gcloud adds) are ignored after creation.
 */
locals {
  # Deterministic URL of a gen2 function, known before it exists: the jobs function checks the audience
  # of Cloud Scheduler's OIDC tokens against its own URL, so it needs it in its environment.
  names = { for fn, _ in var.functions : fn => "lattice-${fn}-${var.environment}" }
  urls  = { for fn, name in local.names : fn => "https://${var.region}-${var.project_id}.cloudfunctions.net/${name}" }

  signing_key_version = "${var.audit_signing_key}/cryptoKeyVersions/${var.signing_key_version}"

  # Every variable here is read by functions/shared/config.ts; production refuses to start without the
  # embedded adapters switched off, the KMS key, the JWT secrets and the jobs audience/account.
  common_env = {
    NODE_ENV                 = "production"
    LOG_LEVEL                = var.log_level
    GOOGLE_CLOUD_PROJECT     = var.project_id
    INSTANCE_CONNECTION_NAME = var.instance_connection_name
    DB_NAME                  = var.db_name
    DB_IP_TYPE               = "PRIVATE"
    DB_POOL_MAX              = tostring(var.pool_size)
    SESSION_STORE            = "firestore"
    FIRESTORE_DATABASE       = var.firestore_database
    EVENT_SINK               = "bigquery"
    BIGQUERY_DATASET         = var.bigquery_dataset
    KEY_ENCRYPTOR            = "kms"
    KMS_KEY_NAME             = var.kms_key_name
    JOBS_AUDIENCE            = local.urls["jobs"]
    JOBS_SERVICE_ACCOUNT     = var.service_accounts["jobs"]
  }
  # The signer (jobs) and the verifier (projects: GET /audit/verify) need the signing key version.
  signing_env       = { KMS_SIGNING_KEY_VERSION = local.signing_key_version }
  signing_key_users = ["jobs", "projects"]
}

resource "google_storage_bucket" "source" {
  project                     = var.project_id
  name                        = "${var.project_id}-lattice-functions-${var.environment}"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      num_newer_versions = 20
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket_iam_member" "deployer" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${var.deployer_service_account}"
}

resource "google_cloudfunctions2_function" "this" {
  for_each = var.functions
  project  = var.project_id
  location = var.region
  name     = local.names[each.key]

  build_config {
    runtime     = "nodejs20"
    entry_point = each.key

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = "${each.key}/${var.source_version}.zip"
      }
    }
  }

  service_config {
    available_memory                 = each.value.memory
    available_cpu                    = each.value.cpu
    min_instance_count               = each.value.min_instances
    max_instance_count               = each.value.max_instances
    max_instance_request_concurrency = each.value.concurrency
    timeout_seconds                  = each.value.timeout_seconds
    ingress_settings                 = each.value.ingress
    all_traffic_on_latest_revision   = true
    service_account_email            = var.service_accounts[each.key]
    vpc_connector                    = var.vpc_connector
    # Only private ranges (Cloud SQL) go through the VPC; provider APIs and Google APIs go direct.
    vpc_connector_egress_settings = "PRIVATE_RANGES_ONLY"
    environment_variables         = merge(local.common_env, { DB_USER = var.db_users[each.key] }, contains(local.signing_key_users, each.key) ? local.signing_env : {})

    secret_environment_variables {
      key        = "JWT_SECRETS"
      project_id = var.project_id
      secret     = var.jwt_secrets_secret_id
      version    = "latest"
    }
  }

  labels = { app = "lattice-lock", environment = var.environment, function = each.key }

  lifecycle {
    ignore_changes = [build_config[0].source, build_config[0].docker_repository, labels]
    precondition {
      condition     = each.value.concurrency >= var.pool_size
      error_message = "concurrency must be at least the pool size (DESIGN: pool max <= function concurrency)."
    }
  }
}

# Gen2 functions are Cloud Run services: invocation is run.invoker on the service. The public HTTPS
# functions authenticate in the application (JWT / gateway keys), so anyone may reach them.
resource "google_cloud_run_v2_service_iam_member" "public" {
  for_each = { for fn, f in var.functions : fn => f if f.public }
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.this[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# The jobs function is invoked only by Cloud Scheduler with an OIDC token of the jobs service account.
resource "google_cloud_run_v2_service_iam_member" "jobs_invoker" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.this["jobs"].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${var.service_accounts["jobs"]}"
}

check "jobs_audience_is_the_function_url" {
  assert {
    condition     = google_cloudfunctions2_function.this["jobs"].url == local.urls["jobs"]
    error_message = "the jobs function URL differs from JOBS_AUDIENCE: Cloud Scheduler's tokens would be refused."
  }
}
