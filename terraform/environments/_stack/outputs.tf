# Read by the aws_infra role and turned into facts for later roles. No secret value is ever output.

output "environment" {
  description = "Environment name."
  value       = var.environment
}

output "region" {
  description = "AWS region."
  value       = var.region
}

output "vpc_id" {
  description = "ID of the VPC."
  value       = module.network.vpc_id
}

output "vpc_cidr" {
  description = "CIDR block of the VPC."
  value       = module.network.vpc_cidr_block
}

output "private_subnet_ids" {
  description = "Private subnet IDs."
  value       = module.network.private_subnet_ids
}

output "public_subnet_ids" {
  description = "Public subnet IDs."
  value       = module.network.public_subnet_ids
}

output "nat_gateway_ids" {
  description = "NAT gateway IDs."
  value       = module.network.nat_gateway_ids
}

output "cluster_name" {
  description = "EKS cluster name."
  value       = module.eks.cluster_name
}

output "cluster_version" {
  description = "Kubernetes version of the EKS control plane."
  value       = module.eks.cluster_version
}

output "cluster_endpoint" {
  description = "EKS API endpoint."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "EKS API CA certificate (base64)."
  value       = module.eks.cluster_certificate_authority_data
}

output "cluster_oidc_issuer_url" {
  description = "EKS OIDC issuer URL."
  value       = module.eks.cluster_oidc_issuer_url
}

output "oidc_provider_arn" {
  description = "IAM OIDC provider ARN."
  value       = module.eks.oidc_provider_arn
}

output "node_security_group_id" {
  description = "Security group of the EKS nodes."
  value       = module.eks.node_security_group_id
}

output "db_instance_identifier" {
  description = "RDS instance identifier."
  value       = module.rds.db_instance_identifier
}

output "db_endpoint" {
  description = "RDS endpoint host."
  value       = module.rds.db_instance_address
}

output "db_port" {
  description = "RDS port."
  value       = module.rds.db_instance_port
}

output "db_name" {
  description = "Database name."
  value       = module.rds.db_name
}

output "db_master_secret_arn" {
  description = "Secrets Manager ARN of the RDS master credentials (ARN only)."
  value       = module.rds.master_user_secret_arn
}

output "db_kms_key_arn" {
  description = "KMS key of the database and its secret."
  value       = module.rds.kms_key_arn
}

output "ecr_repository_url" {
  description = "ECR repository URL of the API image."
  value       = module.ecr.repository_url
}

output "ecr_repository_name" {
  description = "ECR repository name."
  value       = module.ecr.repository_name
}

output "backup_bucket_names" {
  description = "Backup bucket names by purpose."
  value       = module.backup_storage.bucket_names
}

output "backup_kms_key_arn" {
  description = "KMS key of the backup buckets."
  value       = module.backup_storage.kms_key_arn
}

output "irsa_role_arns" {
  description = "IRSA role ARNs by workload."
  value = {
    api                      = module.irsa_api.role_arn
    velero                   = module.irsa_velero.role_arn
    load_balancer_controller = module.irsa_load_balancer_controller.role_arn
  }
}

output "api_db_secret_name" {
  description = "Secrets Manager name of the API's database credentials (filled by role aws_services)."
  value       = local.api_db_secret_name
}
