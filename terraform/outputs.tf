output "region" {
  description = "The region deployed to (every aws command in terraform/README.md passes it)."
  value       = var.region
}

output "app_url" {
  description = "The cacheload server inside the VPC (reach it from your machine with ssm_port_forward_command)."
  value       = "http://${module.app.private_ip}:${module.app.port}"
}

output "app_instance_id" {
  description = "EC2 instance running cacheload serve and cacheload export."
  value       = module.app.instance_id
}

output "ssm_port_forward_command" {
  description = "Forwards http://127.0.0.1:8080 on your machine to the server through SSM Session Manager (no SSH, no open port; needs the Session Manager plugin for the AWS CLI)."
  # No quotes inside (shorthand parameters): `$(terraform output -raw ssm_port_forward_command)`
  # runs as is, since a shell does not re-parse quotes coming out of a substitution.
  value = "aws ssm start-session --region ${var.region} --target ${module.app.instance_id} --document-name AWS-StartPortForwardingSession --parameters portNumber=${module.app.port},localPortNumber=8080"
}

output "redis_endpoint" {
  description = "ElastiCache endpoint (TLS): the primary endpoint, the cluster's configuration endpoint or the serverless endpoint; the AUTH token (when used) is in Secrets Manager."
  value       = "rediss://${module.data.redis_endpoint}:6379"
}

output "redis_mode" {
  description = "What to give cacheload's --redis-mode for this cache."
  value       = var.cache_mode == "replication_group" ? "standalone" : "cluster"
}

output "postgres_endpoint" {
  description = "RDS PostgreSQL endpoint (TLS required; master password managed in Secrets Manager)."
  value       = "${module.data.postgres_address}:5432/${module.data.postgres_database}"
}

output "secret_arns" {
  description = "Secrets Manager ARNs: Redis AUTH token, PostgreSQL master credentials, admin token."
  value = {
    redis_auth_token = module.data.redis_auth_secret_arn
    postgres         = module.data.postgres_secret_arn
    admin_token      = module.app.admin_token_secret_arn
  }
}

output "loadgen_results_bucket" {
  description = "Where split runs write their results (s3://BUCKET/runs/RUN-ID/segment-I.json); null when loadgen_count = 0."
  value       = module.loadgen.results_bucket
}

output "loadgen_fleet_tag" {
  description = "The tag scripts/fleet-run targets (--tag)."
  value       = module.loadgen.fleet_tag
}

output "loadgen_instance_ids" {
  description = "Load-generator instances (empty when loadgen_count = 0)."
  value       = module.loadgen.instance_ids
}

output "hit_ratio_alarm_name" {
  description = "The CloudWatch alarm that fires when the hit ratio stays below the threshold."
  value       = module.monitoring.hit_ratio_alarm_name
}

output "latency_alarm_name" {
  description = "The CloudWatch alarm that fires when p99 request latency stays above latency_p99_threshold_ms."
  value       = module.monitoring.latency_alarm_name
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify."
  value       = module.monitoring.alarm_topic_arn
}

output "dashboard_url" {
  description = "The CloudWatch dashboard."
  value       = "https://${var.region}.console.aws.amazon.com/cloudwatch/home?region=${var.region}#dashboards:name=${module.monitoring.dashboard_name}"
}
