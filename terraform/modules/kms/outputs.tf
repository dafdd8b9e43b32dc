output "provider_keys_key" {
  description = "Resource name of the symmetric key the KeyEncryptor uses (KMS_KEY_NAME)."
  value       = google_kms_crypto_key.provider_keys.id
}

output "cloudsql_key" {
  description = "Resource name of the Cloud SQL CMEK key."
  value       = google_kms_crypto_key.cloudsql.id
}

output "audit_signing_key" {
  description = "Resource name of the asymmetric audit signing key."
  value       = google_kms_crypto_key.audit_signing.id
}


output "artifacts_key" {
  description = "Resource name of the artifacts bucket's CMEK key."
  value       = google_kms_crypto_key.artifacts.id
}
