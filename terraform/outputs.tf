output "region" {
  description = "The region deployed to (every aws command in terraform/README.md passes it)."
  value       = var.region
}

output "app_url" {
  description = "The load balancer in front of the cacheload servers (internal by default: reach it from inside the VPC, or from your machine with ssm_port_forward_command)."
  value       = module.app.url
}

output "app_autoscaling_group" {
  description = "The Auto Scaling group running cacheload serve and cacheload export."
  value       = module.app.autoscaling_group_name
}

output "ssm_port_forward_command" {
  description = "Forwards http://127.0.0.1:8080 on your machine to the load balancer through one of the servers and SSM Session Manager (no SSH, no open port; needs the Session Manager plugin). Run it with eval \"$(terraform output -raw ssm_port_forward_command)\"."
  # No quotes inside, so that eval runs it as is; the instance is looked up when it runs (the group
  # replaces instances).
  value = "aws ssm start-session --region ${var.region} --target $(aws autoscaling describe-auto-scaling-groups --region ${var.region} --auto-scaling-group-names ${module.app.autoscaling_group_name} --query AutoScalingGroups[0].Instances[0].InstanceId --output text) --document-name AWS-StartPortForwardingSessionToRemoteHost --parameters host=${module.app.balancer_dns_name},portNumber=80,localPortNumber=8080"
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
  description = "The RDS endpoint, host:port/database (PostgreSQL or MySQL, as db_engine says; TLS required; master password managed in Secrets Manager)."
  value       = "${module.data.postgres_address}:${module.data.db_port}/${module.data.postgres_database}"
}

output "db_engine" {
  description = "The origin database: postgres or mysql."
  value       = module.data.db_engine
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

output "healthy_hosts_alarm_name" {
  description = "The CloudWatch alarm that fires when fewer than app_min_size servers pass the balancer's health check."
  value       = module.monitoring.healthy_hosts_alarm_name
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
