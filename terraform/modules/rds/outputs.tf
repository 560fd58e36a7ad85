output "db_instance_identifier" {
  description = "Identifier of the DB instance."
  value       = aws_db_instance.this.identifier
}

output "db_instance_arn" {
  description = "ARN of the DB instance."
  value       = aws_db_instance.this.arn
}

output "db_instance_address" {
  description = "Host name of the DB instance."
  value       = aws_db_instance.this.address
}

output "db_instance_endpoint" {
  description = "Endpoint (host:port) of the DB instance."
  value       = aws_db_instance.this.endpoint
}

output "db_instance_port" {
  description = "Port of the DB instance."
  value       = aws_db_instance.this.port
}

output "db_name" {
  description = "Name of the database created with the instance."
  value       = aws_db_instance.this.db_name
}

output "master_user_secret_arn" {
  description = "ARN of the Secrets Manager secret RDS keeps the master credentials in (the ARN only, never the value)."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "security_group_id" {
  description = "ID of the database security group."
  value       = aws_security_group.this.id
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the storage."
  value       = module.kms.key_arn
}
