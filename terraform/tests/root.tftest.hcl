# The whole configuration planned against a mock AWS provider: every variable's validation and
# every module's wiring run, for the default variables and the variants a user picks.
# Run by scripts/terraform/check (`terraform test`), offline.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/aws"
}

variables {
  cacheload_artifact_s3_uri = "s3://cacheload-artifacts/release/cacheload-linux-x86_64.tar.gz"
}

run "defaults" {
  command = plan

  assert {
    condition     = length(output.loadgen_instance_ids) == 0
    error_message = "loadgen_count defaults to 0: no load generators."
  }
  assert {
    condition     = !strcontains(output.ssm_port_forward_command, "'") && !strcontains(output.ssm_port_forward_command, "\"")
    error_message = "The port-forward command must run as $(terraform output -raw ssm_port_forward_command): no quotes inside."
  }
  assert {
    condition     = strcontains(output.ssm_port_forward_command, "--region us-east-1") && strcontains(output.ssm_port_forward_command, "host=internal-cacheload-dev-alb-123456789.us-east-1.elb.amazonaws.com,portNumber=80,localPortNumber=8080")
    error_message = "The port-forward command names the region and forwards 8080 to the balancer through an instance of the group."
  }
  assert {
    condition     = output.app_url == "http://internal-cacheload-dev-alb-123456789.us-east-1.elb.amazonaws.com"
    error_message = "app_url is the balancer (HTTP without a certificate)."
  }
  assert {
    condition     = output.hit_ratio_alarm_name == "cacheload-dev-hit-ratio-low"
    error_message = "The alarm's name is what `cacheload alarm describe` is given."
  }
}

run "without_nat_needs_a_prepared_image" {
  command = plan
  variables {
    enable_nat_gateway = false
  }
  expect_failures = [var.ami_id, var.rds_ca_bundle_s3_uri]
}

run "without_nat_with_a_prepared_image" {
  command = plan
  variables {
    enable_nat_gateway   = false
    ami_id               = "ami-0aa1bb2cc3dd4ee5f"
    rds_ca_bundle_s3_uri = "s3://cacheload-artifacts/certs/us-east-1-bundle.pem"
  }
  assert {
    condition     = output.app_autoscaling_group != ""
    error_message = "A NAT-less deployment with a prepared image plans."
  }
}

run "three_load_generators_and_three_cache_nodes" {
  command = plan
  variables {
    loadgen_count = 3
    cache_nodes   = 3
  }
  assert {
    condition     = length(output.loadgen_instance_ids) == 3
    error_message = "loadgen_count = 3 makes three load generators."
  }
}

run "bad_region_and_environment_are_refused" {
  command = plan
  variables {
    region      = "mars-north-1x"
    environment = "Prod_1"
  }
  expect_failures = [var.region, var.environment]
}

run "zones_of_another_region_are_refused" {
  command = plan
  variables {
    region             = "us-east-1"
    availability_zones = ["eu-west-1a", "eu-west-1b"]
  }
  expect_failures = [var.availability_zones]
}

run "bad_sizes_are_refused" {
  command = plan
  variables {
    loadgen_count               = 11
    cache_nodes                 = 1
    secret_recovery_window_days = 3
    hit_ratio_threshold         = 120
    latency_p99_threshold_ms    = 0
  }
  expect_failures = [var.loadgen_count, var.cache_nodes, var.secret_recovery_window_days, var.hit_ratio_threshold, var.latency_p99_threshold_ms]
}

run "artifact_must_be_an_s3_tarball" {
  command = plan
  variables {
    cacheload_artifact_s3_uri = "https://example.com/cacheload.tar.gz"
  }
  expect_failures = [var.cacheload_artifact_s3_uri]
}

run "cluster_mode_and_serverless_plan" {
  command = plan
  variables {
    cache_mode              = "cluster"
    num_node_groups         = 2
    replicas_per_node_group = 2
  }
  assert {
    condition     = output.redis_mode == "cluster" && output.redis_endpoint == "rediss://clustercfg.cacheload-dev.abcdef.use1.cache.amazonaws.com:6379"
    error_message = "Cluster mode: cacheload is told --redis-mode cluster and starts from the configuration endpoint."
  }
}

run "serverless_plans" {
  command = plan
  variables {
    cache_mode = "serverless"
  }
  assert {
    condition     = output.redis_mode == "cluster" && output.redis_endpoint == "rediss://cacheload-dev-abcdef.serverless.use1.cache.amazonaws.com:6379"
    error_message = "Serverless speaks the cluster protocol at its endpoint."
  }
}

run "bad_cache_modes_are_refused" {
  command = plan
  variables {
    cache_mode                     = "sharded"
    replicas_per_node_group        = 0
    num_node_groups                = 0
    serverless_max_ecpu_per_second = 10
  }
  expect_failures = [var.cache_mode, var.replicas_per_node_group, var.num_node_groups, var.serverless_max_ecpu_per_second]
}

run "fleet_sizes_and_certificate_are_checked" {
  command = plan
  variables {
    app_min_size         = 0
    app_desired_capacity = 1
    certificate_arn      = "arn:aws:iam::123456789012:server-certificate/cacheload"
    allowed_cidrs        = ["10.0.0.0/33"]
  }
  expect_failures = [var.app_min_size, var.certificate_arn, var.allowed_cidrs]
}

run "desired_outside_min_and_max_is_refused" {
  command = plan
  variables {
    app_min_size         = 2
    app_desired_capacity = 5
    app_max_size         = 4
  }
  expect_failures = [var.app_desired_capacity]
}

run "internet_facing_balancer_in_the_public_subnets" {
  command = plan
  variables {
    alb_internal    = false
    allowed_cidrs   = ["203.0.113.0/24"]
    certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef"
  }
  assert {
    condition     = startswith(output.app_url, "https://")
    error_message = "With a certificate the balancer's URL is https."
  }
}

run "mysql_origin_plans" {
  command = plan
  variables {
    db_engine = "mysql"
  }
  assert {
    condition     = output.db_engine == "mysql" && endswith(output.postgres_endpoint, ":3306/ecommerce")
    error_message = "db_engine = mysql deploys RDS MySQL with the labs' database."
  }
}

run "unknown_db_engine_is_refused" {
  command = plan
  variables {
    db_engine = "oracle"
  }
  expect_failures = [var.db_engine]
}
