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
  description = "CIDR allowed to reach the server's port (load generators and the SSM port forward)."
  type        = string
}

variable "subnet_id" {
  description = "Private subnet of the instance."
  type        = string
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
