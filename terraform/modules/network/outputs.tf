output "network_id" {
  description = "Id (projects/…/global/networks/…) of the VPC, for Cloud SQL's private_network."
  value       = google_compute_network.vpc.id
}

output "network_name" {
  description = "Name of the VPC."
  value       = google_compute_network.vpc.name
}

output "connector_id" {
  description = "Id of the Serverless VPC Access connector the functions egress through."
  value       = google_vpc_access_connector.functions.id
}

