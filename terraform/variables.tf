variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "environment" {
  description = "Environment name: the Environment dimension of every CacheLoad metric and part of every resource name."
  type        = string
  default     = "dev"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,15}$", var.environment))
    error_message = "environment must be 1-16 characters: lower-case letters, digits and '-', starting with a letter."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; the public and the two private subnets are carved from it."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 22
    error_message = "vpc_cidr must be a valid IPv4 CIDR block of /22 or larger."
  }
}

variable "availability_zones" {
  description = "The two Availability Zones (names) of the private subnets; empty picks <region>a and <region>b."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.availability_zones) == 0 || (length(var.availability_zones) == 2 && alltrue([for zone in var.availability_zones : startswith(zone, var.region)]))
    error_message = "availability_zones must be empty or two zone names of the chosen region, e.g. [\"us-east-1a\", \"us-east-1b\"]."
  }
}

variable "enable_nat_gateway" {
  description = "Give the private subnets internet egress through a NAT gateway. With it the instances install their packages (apt-get) and the RDS CA bundle at boot; without it they need an image that carries them (ami_id) and rds_ca_bundle_s3_uri. SSM, CloudWatch, Secrets Manager and S3 are reached through VPC endpoints either way."
  type        = bool
  default     = true
}

variable "ami_id" {
  description = "An image for the instances; null uses Debian 12 (x86_64). Without a NAT gateway it must carry awscli, jq, curl, libpq5, libmariadb3, libhiredis0.14, libcurl4 and the SSM agent, since nothing can be installed at boot."
  type        = string
  default     = null

  validation {
    condition     = var.ami_id != null || var.enable_nat_gateway
    error_message = "enable_nat_gateway = false needs ami_id: an image with awscli, jq, curl, libpq5, libmariadb3, libhiredis0.14, libcurl4 and the SSM agent (a plain Debian image cannot install them without internet egress)."
  }
}

variable "rds_ca_bundle_s3_uri" {
  description = "s3:// URI of the RDS CA bundle (the region's bundle from truststore.pki.rds.amazonaws.com); null downloads it at boot, which needs the NAT gateway."
  type        = string
  default     = null

  validation {
    condition     = var.rds_ca_bundle_s3_uri != null || var.enable_nat_gateway
    error_message = "enable_nat_gateway = false needs rds_ca_bundle_s3_uri: the RDS CA bundle cannot be downloaded without internet egress; upload it next to the release tarball."
  }

  validation {
    condition     = var.rds_ca_bundle_s3_uri == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$", var.rds_ca_bundle_s3_uri))
    error_message = "rds_ca_bundle_s3_uri must look like s3://bucket/path/bundle.pem."
  }
}

variable "secret_recovery_window_days" {
  description = "Days a destroyed secret (Redis AUTH token, admin token) can still be restored; 0 deletes at once. Secret names carry a unique suffix, so apply after destroy works either way."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or 7-30 (the range Secrets Manager accepts)."
  }
}

variable "cacheload_artifact_s3_uri" {
  description = "s3:// URI of the cacheload release tarball (bin/cacheload built with --static-swift-stdlib on Debian 12); see terraform/README.md."
  type        = string

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\\.tar\\.gz$", var.cacheload_artifact_s3_uri))
    error_message = "cacheload_artifact_s3_uri must look like s3://bucket/path/cacheload.tar.gz."
  }
}

variable "app_instance_type" {
  description = "EC2 instance type of the cacheload server."
  type        = string
  default     = "c7i.large"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.app_instance_type))
    error_message = "app_instance_type must be an EC2 instance type such as c7i.large."
  }
}

variable "loadgen_count" {
  description = "Number of load-generator instances (cacheload load); 0 deploys none."
  type        = number
  default     = 0

  validation {
    condition     = var.loadgen_count >= 0 && var.loadgen_count <= 10 && floor(var.loadgen_count) == var.loadgen_count
    error_message = "loadgen_count must be a whole number from 0 to 10."
  }
}

variable "loadgen_instance_type" {
  description = "EC2 instance type of the load generators."
  type        = string
  default     = "c7i.large"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.loadgen_instance_type))
    error_message = "loadgen_instance_type must be an EC2 instance type such as c7i.large."
  }
}

variable "cache_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.small"

  validation {
    condition     = startswith(var.cache_node_type, "cache.")
    error_message = "cache_node_type must be an ElastiCache node type such as cache.t4g.small."
  }
}

variable "cache_mode" {
  description = "How the cache is deployed: replication_group (one primary and cache_nodes - 1 replicas, cluster mode disabled), cluster (cluster mode enabled: num_node_groups shards of 1 + replicas_per_node_group nodes, a configuration endpoint) or serverless (ElastiCache Serverless: the cluster protocol over TLS, scaled and billed by use within the usage limits)."
  type        = string
  default     = "replication_group"

  validation {
    condition     = contains(["replication_group", "cluster", "serverless"], var.cache_mode)
    error_message = "cache_mode must be replication_group, cluster or serverless."
  }
}

variable "num_node_groups" {
  description = "cache_mode = cluster: shards (node groups), each serving a share of the 16384 hash slots."
  type        = number
  default     = 3

  validation {
    condition     = var.num_node_groups >= 1 && var.num_node_groups <= 90 && floor(var.num_node_groups) == var.num_node_groups
    error_message = "num_node_groups must be a whole number from 1 to 90."
  }
}

variable "replicas_per_node_group" {
  description = "cache_mode = cluster: replicas of each shard's primary, in other AZs (failover needs at least one)."
  type        = number
  default     = 1

  validation {
    condition     = var.replicas_per_node_group >= 1 && var.replicas_per_node_group <= 5 && floor(var.replicas_per_node_group) == var.replicas_per_node_group
    error_message = "replicas_per_node_group must be a whole number from 1 to 5 (failover needs a replica)."
  }
}

variable "serverless_max_data_storage_gb" {
  description = "cache_mode = serverless: the most data the cache may hold, in GB (a cost ceiling; writes fail past it, so keep TTLs)."
  type        = number
  default     = 10

  validation {
    condition     = var.serverless_max_data_storage_gb >= 1 && var.serverless_max_data_storage_gb <= 5000
    error_message = "serverless_max_data_storage_gb must be from 1 to 5000."
  }
}

variable "serverless_max_ecpu_per_second" {
  description = "cache_mode = serverless: the most ElastiCache Processing Units per second (a cost ceiling; requests past it are throttled)."
  type        = number
  default     = 5000

  validation {
    condition     = var.serverless_max_ecpu_per_second >= 1000 && var.serverless_max_ecpu_per_second <= 15000000
    error_message = "serverless_max_ecpu_per_second must be from 1000 to 15000000."
  }
}

variable "cache_nodes" {
  description = "Redis nodes in the replication group: one primary and cache_nodes - 1 replicas in the other AZ (automatic failover)."
  type        = number
  default     = 2

  validation {
    condition     = var.cache_nodes >= 2 && var.cache_nodes <= 6 && floor(var.cache_nodes) == var.cache_nodes
    error_message = "cache_nodes must be a whole number from 2 to 6 (failover needs a replica)."
  }
}

variable "db_instance_class" {
  description = "RDS instance class of the PostgreSQL origin."
  type        = string
  default     = "db.t4g.micro"

  validation {
    condition     = startswith(var.db_instance_class, "db.")
    error_message = "db_instance_class must be an RDS instance class such as db.t4g.micro."
  }
}

variable "db_allocated_storage" {
  description = "RDS storage in GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.db_allocated_storage >= 20 && var.db_allocated_storage <= 1000
    error_message = "db_allocated_storage must be between 20 and 1000 GiB."
  }
}

variable "db_multi_az" {
  description = "Run RDS with a standby in the second AZ (doubles its cost)."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Protect RDS from deletion; set false (and apply) before terraform destroy."
  type        = bool
  default     = true
}

variable "hit_ratio_threshold" {
  description = "The hit-ratio alarm fires when 100*hits/(hits+misses) stays below this percent."
  type        = number
  default     = 80

  validation {
    condition     = var.hit_ratio_threshold > 0 && var.hit_ratio_threshold <= 100
    error_message = "hit_ratio_threshold must be a percent in (0, 100]."
  }
}

variable "latency_p99_threshold_ms" {
  description = "The latency alarm fires when CloudWatch's p99 of RequestLatency stays above this many milliseconds."
  type        = number
  default     = 50

  validation {
    condition     = var.latency_p99_threshold_ms > 0
    error_message = "latency_p99_threshold_ms must be a positive number of milliseconds."
  }
}

variable "alarm_email" {
  description = "Email subscribed to the alarm topic (confirm the subscription mail); empty for none."
  type        = string
  default     = ""

  validation {
    condition     = var.alarm_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an email address or empty."
  }
}

variable "cloudwatch_namespace" {
  description = "CloudWatch namespace of the CacheLoad metrics; the IAM policy allows PutMetricData to this namespace only."
  type        = string
  default     = "CacheLoad"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.cloudwatch_namespace)) && !startswith(var.cloudwatch_namespace, "AWS/")
    error_message = "cloudwatch_namespace must be 1-255 characters of A-Z a-z 0-9 . _ / # : - and not start with AWS/."
  }
}

variable "app_min_size" {
  description = "Fewest cacheload server instances (the Auto Scaling group's minimum; the healthy-host alarm fires below it)."
  type        = number
  default     = 2

  validation {
    condition     = var.app_min_size >= 1 && floor(var.app_min_size) == var.app_min_size
    error_message = "app_min_size must be a whole number of at least 1."
  }
}

variable "app_max_size" {
  description = "Most cacheload server instances (target tracking scales up to it)."
  type        = number
  default     = 4

  validation {
    condition     = var.app_max_size >= 1 && var.app_max_size <= 100 && floor(var.app_max_size) == var.app_max_size
    error_message = "app_max_size must be a whole number from 1 to 100."
  }
}

variable "app_desired_capacity" {
  description = "Server instances at the start, over the two zones; app_min_size <= app_desired_capacity <= app_max_size."
  type        = number
  default     = 2

  validation {
    condition     = var.app_desired_capacity >= 1 && floor(var.app_desired_capacity) == var.app_desired_capacity
    error_message = "app_desired_capacity must be a whole number of at least 1."
  }

  validation {
    condition     = var.app_min_size <= var.app_desired_capacity && var.app_desired_capacity <= var.app_max_size
    error_message = "app_min_size <= app_desired_capacity <= app_max_size must hold."
  }
}

variable "app_requests_per_target" {
  description = "Target tracking: requests per server instance per minute (the balancer's RequestCountPerTarget) the group scales to hold."
  type        = number
  default     = 60000

  validation {
    condition     = var.app_requests_per_target >= 1
    error_message = "app_requests_per_target must be positive."
  }
}

variable "alb_internal" {
  description = "An internal load balancer (reached from the VPC or through the SSM port forward, the default) or an internet-facing one in the public subnets."
  type        = bool
  default     = true
}

variable "allowed_cidrs" {
  description = "CIDRs that may reach the load balancer's listeners; empty means the VPC only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.allowed_cidrs : can(cidrhost(cidr, 0))])
    error_message = "allowed_cidrs must be IPv4 CIDR blocks such as 10.0.0.0/8."
  }
}

variable "certificate_arn" {
  description = "ACM certificate ARN for an HTTPS listener (policy ELBSecurityPolicy-TLS13-1-2-2021-06; HTTP then redirects to it); null serves HTTP only."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z]{2}(-gov)?-[a-z]+-[0-9]:[0-9]{12}:certificate/[0-9a-f-]{36}$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN such as arn:aws:acm:us-east-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef."
  }
}

variable "db_engine" {
  description = "The database behind the cache: postgres (RDS PostgreSQL 16, database cacheload) or mysql (RDS MySQL 8.0, database ecommerce, as the labs'); both with TLS required, encryption, backups, monitoring and the master password in Secrets Manager."
  type        = string
  default     = "postgres"

  validation {
    condition     = contains(["postgres", "mysql"], var.db_engine)
    error_message = "db_engine must be postgres or mysql."
  }
}
