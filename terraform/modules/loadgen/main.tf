# Load generators: `cacheload load` installed and nothing running. Operators start runs through SSM
# (scripts/fleet-run: one segment per instance, found by the Fleet tag set here); each writes its
# result to the results bucket below, and the merge reads them back. The instances reach the
# server's port and HTTPS, nothing else.

data "aws_partition" "current" {}

locals {
  artifact_path = trimprefix(var.artifact_s3_uri, "s3://")
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  count              = var.instance_count > 0 ? 1 : 0
  name               = "${var.name}-loadgen"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy_attachment" "ssm" {
  count      = var.instance_count > 0 ? 1 : 0
  role       = aws_iam_role.this[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

data "aws_iam_policy_document" "loadgen" {
  count = var.instance_count > 0 ? 1 : 0

  statement {
    sid       = "FetchRelease"
    actions   = ["s3:GetObject"]
    resources = ["arn:${data.aws_partition.current.partition}:s3:::${local.artifact_path}"]
  }

  # Results: written and read under runs/ only; listed only there.
  statement {
    sid       = "WriteAndReadResults"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${aws_s3_bucket.results[0].arn}/${local.results_prefix}*"]
  }

  statement {
    sid       = "ListResults"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.results[0].arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.results_prefix}*", "runs"]
    }
  }

  statement {
    sid       = "ResultsEncryption"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

# --- Results bucket ---------------------------------------------------------------------------

locals {
  results_prefix = "runs/"
}

resource "aws_s3_bucket" "results" {
  #checkov:skip=CKV_AWS_18:Access logs of a results bucket written by our own instances would need a second bucket per deployment; CloudTrail data events cover audits when wanted.
  #checkov:skip=CKV_AWS_144:Results are reproducible measurements kept 30 days; a replica in another region is not worth its cost.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to a new result: scripts/fleet-run waits for the SSM invocations, then merges.
  count         = var.instance_count > 0 ? 1 : 0
  bucket_prefix = "${var.name}-results-"
  force_destroy = true
}

resource "aws_s3_bucket_public_access_block" "results" {
  count                   = var.instance_count > 0 ? 1 : 0
  bucket                  = aws_s3_bucket.results[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "results" {
  count  = var.instance_count > 0 ? 1 : 0
  bucket = aws_s3_bucket.results[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "results" {
  count  = var.instance_count > 0 ? 1 : 0
  bucket = aws_s3_bucket.results[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "results" {
  count  = var.instance_count > 0 ? 1 : 0
  bucket = aws_s3_bucket.results[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "results" {
  count  = var.instance_count > 0 ? 1 : 0
  bucket = aws_s3_bucket.results[0].id

  rule {
    id     = "expire-runs"
    status = "Enabled"
    filter {
      prefix = local.results_prefix
    }
    expiration {
      days = var.results_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "results_tls_only" {
  count = var.instance_count > 0 ? 1 : 0
  statement {
    sid       = "DenyPlainHTTP"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.results[0].arn, "${aws_s3_bucket.results[0].arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "results" {
  count  = var.instance_count > 0 ? 1 : 0
  bucket = aws_s3_bucket.results[0].id
  policy = data.aws_iam_policy_document.results_tls_only[0].json
}

resource "aws_iam_role_policy" "loadgen" {
  count  = var.instance_count > 0 ? 1 : 0
  name   = "cacheload-loadgen"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.loadgen[0].json
}

resource "aws_iam_instance_profile" "this" {
  count = var.instance_count > 0 ? 1 : 0
  name  = "${var.name}-loadgen"
  role  = aws_iam_role.this[0].name
}

resource "aws_security_group" "this" {
  name        = "${var.name}-loadgen"
  description = "cacheload load generators: no inbound; out to the balancer and HTTPS"
  vpc_id      = var.vpc_id

  egress {
    description = "HTTPS: the balancer with a certificate, AWS endpoints and the SSM agent"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    description = "HTTP: the balancer, and Debian package mirrors (apt verifies signatures)"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_instance" "this" {
  count                  = var.instance_count
  ami                    = var.ami_id
  instance_type          = var.instance_type
  subnet_id              = var.subnet_ids[count.index % length(var.subnet_ids)]
  vpc_security_group_ids = [aws_security_group.this.id]
  iam_instance_profile   = aws_iam_instance_profile.this[0].name
  ebs_optimized          = true
  monitoring             = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = 16
    encrypted   = true
    kms_key_id  = var.kms_key_arn
  }

  user_data                   = <<-EOT
    #!/bin/bash
    set -euo pipefail
    ${templatefile("${path.module}/../../templates/install-cacheload.sh.tftpl", { region = var.region, artifact_s3_uri = var.artifact_s3_uri })}
    install -d /etc/cacheload
    echo '${var.target_url}' > /etc/cacheload/target
    # Many connections per process need many descriptors.
    echo '* soft nofile 65536' >> /etc/security/limits.conf
    echo '* hard nofile 65536' >> /etc/security/limits.conf
  EOT
  user_data_replace_on_change = true

  # scripts/fleet-run finds the fleet by this tag and gives each instance its segment.
  tags = { Name = "${var.name}-loadgen-${count.index + 1}", CacheloadFleet = var.name }
}
