/**
 * The four gen2 functions, each built from its own esbuild bundle (npm run build → dist/<fn>, zipped to
 * <fn>/<release>.zip in the source bucket), each running as its own service account.
 *
 * Terraform is the only deployer, code included: the release pointer `releases/current` in the source
 * bucket names the archives to run, and a change of it redeploys the functions. cloudbuild.yaml uploads
 * the archives, moves the pointer and runs `terraform apply` on this module; an operator's apply reads the
 * same pointer, so it never rolls the code back. There is no `gcloud functions deploy` anywhere.
 */
locals {
  # Deterministic URL of a gen2 function, known before it exists: the jobs function checks the audience
  # of Cloud Scheduler's OIDC tokens against its own URL, so it needs it in its environment.
  names = { for fn, _ in var.functions : fn => "lattice-${fn}-${var.environment}" }
  urls  = { for fn, name in local.names : fn => "https://${var.region}-${var.project_id}.cloudfunctions.net/${name}" }

  signing_key_version = "${var.audit_signing_key}/cryptoKeyVersions/${var.signing_key_version}"

  release = trimspace(data.google_storage_bucket_object_content.release.content)

  # Every variable here is read by functions/shared/config.ts; production refuses to start without the
  # embedded adapters switched off and the KMS key (every function), and without what
  # FUNCTION_REQUIREMENTS lists for each function (function_env below, secrets from var.function_secrets).
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
  }
  # Plain (non-secret) variables only some functions read. The signer (jobs) and the verifier (projects:
  # GET /audit/verify) need the signing key version.
  function_env = {
    auth = {
      MAILER          = "smtp"
      MAIL_FROM       = var.mail_from
      PUBLIC_BASE_URL = var.public_base_url
    }
    projects = {
      KMS_SIGNING_KEY_VERSION = local.signing_key_version
      ARTIFACT_STORE          = "gcs"
      ARTIFACT_BUCKET         = var.artifact_bucket
    }
    providers = {
      PLATFORM_PROVIDERS = join(",", var.platform_providers)
    }
    jobs = {
      JOBS_AUDIENCE           = local.urls["jobs"]
      JOBS_SERVICE_ACCOUNT    = var.service_accounts["jobs"]
      KMS_SIGNING_KEY_VERSION = local.signing_key_version
      ARTIFACT_STORE          = "gcs"
      ARTIFACT_BUCKET         = var.artifact_bucket
    }
  }
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

# The release the functions run: one line, the version of the archives (<fn>/<version>.zip). Written by
# cloudbuild.yaml before it applies this module (README "Operate" for the first one).
data "google_storage_bucket_object_content" "release" {
  bucket = google_storage_bucket.source.name
  name   = "releases/current"
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
    runtime         = var.runtime
    entry_point     = each.key
    service_account = "projects/${var.project_id}/serviceAccounts/${var.build_service_account}"

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = "${each.key}/${local.release}.zip"
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
    environment_variables         = merge(local.common_env, { DB_USER = var.db_users[each.key] }, lookup(local.function_env, each.key, {}))

    # Each secret the function reads (and only those: its service account can read no other), resolved
    # when an instance starts, so a new version reaches new instances without a deploy.
    dynamic "secret_environment_variables" {
      for_each = toset(lookup(var.function_secrets, each.key, []))
      content {
        key        = secret_environment_variables.value
        project_id = var.project_id
        secret     = var.secret_ids[secret_environment_variables.value]
        version    = "latest"
      }
    }
  }

  labels = { app = "lattice-lock", environment = var.environment, function = each.key }

  lifecycle {
    # The API picks the Artifact Registry repository when none is set.
    ignore_changes = [build_config[0].docker_repository]
    precondition {
      condition     = can(regex("^[A-Za-z0-9._-]{1,64}$", local.release))
      error_message = "releases/current in the source bucket must hold a version (1-64 letters, digits, dots, dashes, underscores): cloudbuild.yaml writes it."
    }
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
