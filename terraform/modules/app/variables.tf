variable "name" {
  description = "Name prefix of every resource."
  type        = string
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "environment" {
  description = "Environment dimension of the CloudWatch metrics."
  type        = string
}

variable "service" {
  description = "Service dimension of the CloudWatch metrics."
  type        = string
}

variable "vpc_id" {
  description = "The VPC."
  type        = string
}

variable "vpc_cidr" {
  description = "The VPC's CIDR (Redis and PostgreSQL are reached inside it)."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the group's instances (one per Availability Zone)."
  type        = list(string)
}

variable "alb_subnet_ids" {
  description = "Subnets of the load balancer, in two Availability Zones: the private ones when internal, the public ones when not."
  type        = list(string)
}

variable "ami_id" {
  description = "Debian 12 x86_64 AMI (the release tarball is built for it)."
  type        = string
}

variable "instance_type" {
  description = "EC2 instance type."
  type        = string
}

variable "port" {
  description = "Port cacheload serve listens on."
  type        = number
  default     = 8080
}

variable "kms_key_arn" {
  description = "KMS key of the secrets and the EBS volume."
  type        = string
}

variable "artifact_s3_uri" {
  description = "s3:// URI of the cacheload tarball."
  type        = string
}

variable "cloudwatch_namespace" {
  description = "The only namespace the instance may PutMetricData to."
  type        = string
}

variable "redis_endpoint" {
  description = "ElastiCache primary endpoint."
  type        = string
}

variable "redis_mode" {
  description = "standalone (a replication group's primary endpoint) or cluster (cluster mode or Serverless): cacheload's --redis-mode."
  type        = string
  default     = "standalone"

  validation {
    condition     = contains(["standalone", "cluster"], var.redis_mode)
    error_message = "redis_mode must be standalone or cluster."
  }
}

variable "redis_auth" {
  description = "Whether the Redis URL carries the AUTH token from redis_auth_secret_arn."
  type        = bool
  default     = true
}

variable "redis_auth_secret_arn" {
  description = "Secret with the Redis AUTH token."
  type        = string
}

variable "db_engine" {
  description = "The origin: postgres or mysql (the endpoint, database and secret below are that engine's)."
  type        = string
  default     = "postgres"

  validation {
    condition     = contains(["postgres", "mysql"], var.db_engine)
    error_message = "db_engine must be postgres or mysql."
  }
}

variable "db_port" {
  description = "The origin's port (the data module's db_port: 5432 for PostgreSQL, 3306 for MySQL)."
  type        = number
  default     = 5432
}

variable "postgres_endpoint" {
  description = "RDS endpoint host."
  type        = string
}

variable "postgres_database" {
  description = "RDS database name."
  type        = string
}

variable "postgres_secret_arn" {
  description = "RDS-managed secret with the master username and password."
  type        = string
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can be restored (0 deletes at once)."
  type        = number
}

variable "rds_ca_bundle_s3_uri" {
  description = "s3:// URI of the RDS CA bundle; null downloads it from the RDS trust store at boot."
  type        = string
  default     = null
}

variable "min_size" {
  description = "Fewest instances of the group (also the healthy-host alarm's floor)."
  type        = number
  default     = 2
}

variable "max_size" {
  description = "Most instances of the group."
  type        = number
  default     = 4
}

variable "desired_capacity" {
  description = "Instances at the start; target tracking moves it between min_size and max_size."
  type        = number
  default     = 2
}

variable "min_healthy_percentage" {
  description = "Instance refresh: share of the group that stays in service while instances are replaced."
  type        = number
  default     = 50
}

variable "requests_per_target" {
  description = "Target tracking: requests per instance per minute (ALBRequestCountPerTarget) the group scales to hold."
  type        = number
  default     = 60000
}

variable "health_check_grace_seconds" {
  description = "Seconds after launch before health checks count (first boot installs packages, the release and seeds)."
  type        = number
  default     = 300
}

variable "alb_internal" {
  description = "Internal balancer (reached from inside the VPC or through the SSM port forward) or internet-facing."
  type        = bool
  default     = true
}

variable "allowed_cidrs" {
  description = "CIDRs allowed to reach the balancer's listeners."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups (the load generators') also allowed to reach the balancer's listeners."
  type        = list(string)
  default     = []
}

variable "certificate_arn" {
  description = "ACM certificate of an HTTPS listener; null serves HTTP only."
  type        = string
  default     = null
}

variable "deregistration_delay_seconds" {
  description = "Seconds the balancer lets a deregistered instance finish its requests before scale-in terminates it; at least the longest request (the origin timeout, 30 s)."
  type        = number
  default     = 40
}

variable "health_check_interval_seconds" {
  description = "Seconds between the balancer's /health checks."
  type        = number
  default     = 5

  validation {
    condition     = var.health_check_interval_seconds >= 5 && var.health_check_interval_seconds <= 300
    error_message = "health_check_interval_seconds must be from 5 to 300 (the balancer's range)."
  }
}

variable "unhealthy_threshold" {
  description = "Failed /health checks that take an instance out."
  type        = number
  default     = 2
}

variable "drain_seconds" {
  description = "cacheload serve --drain-seconds: after SIGTERM, /health answers 503 and requests are still served this long, so the balancer takes the instance out before it stops listening. At least health_check_interval_seconds x unhealthy_threshold."
  type        = number
  default     = 12
}

variable "shutdown_grace_seconds" {
  description = "Seconds after the drain for in-flight requests to finish before systemd kills the server (TimeoutStopSec is the drain plus this)."
  type        = number
  default     = 35
}

variable "access_log_retention_days" {
  description = "Days the balancer's access logs are kept."
  type        = number
  default     = 30
}

variable "deletion_protection" {
  description = "Protect the balancer from deletion."
  type        = bool
  default     = false
}
