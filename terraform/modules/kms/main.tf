/**
 * One key ring, four keys:
 *  - provider-keys (symmetric): wraps the per-secret DEKs of the KeyEncryptor (users' BYOK provider keys
 *    and, per DESIGN, TOTP secrets, which go through the same KeyEncryptor);
 *  - cloudsql (symmetric): CMEK of the Cloud SQL instance and its replica;
 *  - artifacts (symmetric): CMEK of the analysis artifacts bucket;
 *  - audit-signing (EC P-256): signs audit seal chain heads. Asymmetric keys cannot rotate automatically;
 *    README "Operate" describes rotating it by adding a version.
 * Key material cannot be recovered once destroyed, so every key has prevent_destroy.
 * Grants use iam_binding (authoritative per role and key), so nobody else holds these roles on them.
 */
resource "google_kms_key_ring" "this" {
  project  = var.project_id
  name     = "lattice-${var.environment}"
  location = var.region
}

resource "google_kms_crypto_key" "provider_keys" {
  name            = "provider-keys"
  key_ring        = google_kms_key_ring.this.id
  purpose         = "ENCRYPT_DECRYPT"
  rotation_period = var.rotation_period

  version_template {
    algorithm        = "GOOGLE_SYMMETRIC_ENCRYPTION"
    protection_level = var.protection_level
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_kms_crypto_key" "cloudsql" {
  name            = "cloudsql"
  key_ring        = google_kms_key_ring.this.id
  purpose         = "ENCRYPT_DECRYPT"
  rotation_period = var.rotation_period

  version_template {
    algorithm        = "GOOGLE_SYMMETRIC_ENCRYPTION"
    protection_level = var.protection_level
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_kms_crypto_key" "artifacts" {
  name            = "artifacts"
  key_ring        = google_kms_key_ring.this.id
  purpose         = "ENCRYPT_DECRYPT"
  rotation_period = var.rotation_period

  version_template {
    algorithm        = "GOOGLE_SYMMETRIC_ENCRYPTION"
    protection_level = var.protection_level
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_kms_crypto_key" "audit_signing" {
  name     = "audit-signing"
  key_ring = google_kms_key_ring.this.id
  purpose  = "ASYMMETRIC_SIGN"

  version_template {
    algorithm        = "EC_SIGN_P256_SHA256"
    protection_level = var.protection_level
  }

  lifecycle {
    prevent_destroy = true
  }
}

# Only the providers function wraps and unwraps provider keys. The auth function also needs it because
# TOTP secrets are encrypted through the same KeyEncryptor (DESIGN §2, auth.users totp secret encrypted).
resource "google_kms_crypto_key_iam_binding" "provider_keys_encrypt_decrypt" {
  crypto_key_id = google_kms_crypto_key.provider_keys.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  members = [
    "serviceAccount:${var.providers_service_account}",
    "serviceAccount:${var.auth_service_account}",
  ]
}

# Only the jobs function (seal-audit) signs checkpoints.
resource "google_kms_crypto_key_iam_binding" "audit_signing_signer" {
  crypto_key_id = google_kms_crypto_key.audit_signing.id
  role          = "roles/cloudkms.signerVerifier"
  members       = ["serviceAccount:${var.jobs_service_account}"]
}

# Verifiers read the public key only: they can check signatures, never make one.
resource "google_kms_crypto_key_iam_binding" "audit_signing_public_key" {
  crypto_key_id = google_kms_crypto_key.audit_signing.id
  role          = "roles/cloudkms.publicKeyViewer"
  members       = [for email in var.verifier_service_accounts : "serviceAccount:${email}"]
}

# Cloud SQL's service agent encrypts the instance's disks and backups with the CMEK key. The agent is
# created by modules/project (google_project_service_identity) and handed over after IAM propagation.
resource "google_kms_crypto_key_iam_binding" "cloudsql_cmek" {
  crypto_key_id = google_kms_crypto_key.cloudsql.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  members       = ["serviceAccount:${var.cloudsql_service_agent}"]
}

# Cloud Storage's service agent encrypts and decrypts the artifacts bucket's objects with the CMEK key
# (https://cloud.google.com/storage/docs/encryption/using-customer-managed-keys#service-agent-access).
resource "google_kms_crypto_key_iam_binding" "artifacts_cmek" {
  crypto_key_id = google_kms_crypto_key.artifacts.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  members       = ["serviceAccount:${var.storage_service_agent}"]
}
