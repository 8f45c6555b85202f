variable "name" {
  description = "Name prefix of every resource."
  type        = string
}

variable "region" {
  description = "AWS region (of the dashboard widgets)."
  type        = string
}

variable "namespace" {
  description = "CloudWatch namespace cacheload pushes to."
  type        = string
  default     = "CacheLoad"
}

variable "service" {
  description = "Service dimension cacheload sends."
  type        = string
  default     = "cacheload"
}

variable "environment" {
  description = "Environment dimension cacheload sends."
  type        = string
}

variable "threshold" {
  description = "Percent; the hit-ratio alarm fires below it."
  type        = number
  default     = 80
}

variable "latency_p99_threshold_ms" {
  description = "Milliseconds; the latency alarm fires when p99 RequestLatency is above it."
  type        = number
  default     = 50
}

variable "period_seconds" {
  description = "Alarm period."
  type        = number
  default     = 60
}

variable "evaluation_periods" {
  description = "Periods evaluated (N of 'M out of N')."
  type        = number
  default     = 5
}

variable "datapoints_to_alarm" {
  description = "Breaching periods that fire the alarm (M of 'M out of N')."
  type        = number
  default     = 3
}

variable "alarm_email" {
  description = "Email subscribed to the alarm topic; empty for none."
  type        = string
  default     = ""
}

variable "kms_key_arn" {
  description = "KMS key of the SNS topic."
  type        = string
}

variable "replication_group_id" {
  description = "ElastiCache replication group."
  type        = string
}

variable "cache_cluster_ids" {
  description = "ElastiCache metric dimension values: every node's CacheClusterId, or the serverless cache's name."
  type        = list(string)
}

variable "cache_dimension" {
  description = "The dimension the values above belong to: CacheClusterId (nodes) or clusterId (Serverless)."
  type        = string
  default     = "CacheClusterId"
}

variable "db_instance_id" {
  description = "RDS DBInstanceIdentifier."
  type        = string
}

variable "balancer_arn_suffix" {
  description = "The load balancer's LoadBalancer dimension (app/NAME/ID)."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "The target group's TargetGroup dimension (targetgroup/NAME/ID)."
  type        = string
}

variable "min_healthy_hosts" {
  description = "The healthy-host alarm fires below this many healthy targets (the group's minimum)."
  type        = number
}
