/**
 * The analysis artifacts bucket. Clients upload and download through V4 signed URLs that the projects
 * function signs (IAM signBlob with its own service account); nothing is public. Objects are named
 * orgs/<org id>/artifacts/<artifact id> by the code.
 *
 * - uniform bucket-level access and enforced public access prevention: IAM only, no ACL can open an
 *   object (https://cloud.google.com/storage/docs/uniform-bucket-level-access,
 *   https://cloud.google.com/storage/docs/public-access-prevention);
 * - CMEK: the platform key ring's artifacts key, granted to this project's Cloud Storage service agent
 *   (https://cloud.google.com/storage/docs/encryption/customer-managed-keys);
 * - versioning off and soft delete off: an expired or rejected artifact's bytes are gone when deleted,
 *   not kept as noncurrent versions or soft-deleted copies;
 * - a lifecycle rule one day past the longest artifact life (ARTIFACT_MAX_TTL_DAYS in the code), the
 *   backstop for anything the cleanup job missed (e.g. objects of a deleted organization).
 */
resource "google_storage_bucket" "artifacts" {
  project                     = var.project_id
  name                        = "${var.project_id}-lattice-artifacts-${var.environment}"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = false
  }

  soft_delete_policy {
    retention_duration_seconds = 0
  }

  encryption {
    default_kms_key_name = var.kms_key_name
  }

  lifecycle_rule {
    condition {
      age = var.max_age_days + 1
    }
    action {
      type = "Delete"
    }
  }

  # Browsers PUT and GET the signed URLs cross-origin; a preflight must allow the signed headers.
  dynamic "cors" {
    for_each = length(var.cors_origins) > 0 ? [1] : []
    content {
      origin          = var.cors_origins
      method          = ["PUT", "GET", "HEAD"]
      response_header = ["Content-Type", "Content-Disposition", "x-goog-content-length-range", "x-goog-if-generation-match"]
      max_age_seconds = 3600
    }
  }

  labels = { app = "lattice-lock", environment = var.environment, data = "artifacts" }
}

# The projects function writes (through the URLs it signs), reads back to verify, deletes rejected uploads.
resource "google_storage_bucket_iam_member" "projects_writer" {
  bucket = google_storage_bucket.artifacts.name
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${var.projects_service_account}"
}

# The cleanup job only deletes: a custom role with that one permission, so it cannot write or read.
resource "google_project_iam_custom_role" "artifact_reaper" {
  project     = var.project_id
  role_id     = "latticeArtifactReaper${title(var.environment)}"
  title       = "Lattice Lock artifact reaper (${var.environment})"
  description = "Deletes expired analysis artifacts' objects; nothing else."
  permissions = ["storage.objects.delete"]
}

resource "google_storage_bucket_iam_member" "jobs_reaper" {
  bucket = google_storage_bucket.artifacts.name
  role   = google_project_iam_custom_role.artifact_reaper.name
  member = "serviceAccount:${var.jobs_service_account}"
}

# Without a key file the function signs URLs through IAM Credentials signBlob as itself
# (https://cloud.google.com/storage/docs/authentication/creating-signatures): it needs
# iam.serviceAccounts.signBlob on its own account, and on no other.
resource "google_service_account_iam_member" "projects_signs_as_itself" {
  service_account_id = "projects/${var.project_id}/serviceAccounts/${var.projects_service_account}"
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${var.projects_service_account}"
}
