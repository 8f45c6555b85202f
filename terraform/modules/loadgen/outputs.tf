output "instance_ids" {
  description = "Load-generator instances."
  value       = aws_instance.this[*].id
}

output "security_group_id" {
  description = "Security group of the load generators."
  value       = aws_security_group.this.id
}

output "results_bucket" {
  description = "Bucket the load generators write results to (under runs/); null without load generators."
  value       = var.instance_count > 0 ? aws_s3_bucket.results[0].id : null
}

output "fleet_tag" {
  description = "Tag (key=value) marking this deployment's load generators, for scripts/fleet-run."
  value       = "CacheloadFleet=${var.name}"
}
