#!/usr/bin/python
# Copyright: titanic-ops contributors
# Apache License 2.0 (see the LICENSE of the titanic-ops repository)
"""Ansible module: copy an encrypted RDS DB snapshot into this region under a key of this region."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rds_snapshot_copy
short_description: Copy an RDS DB snapshot from another region under a key of this region
version_added: 1.0.0
description:
  - Calls RDS C(CopyDBSnapshot) in the module's region (the destination) for a snapshot of
    another region, with O(kms_key_id), a KMS key of the destination region. An encrypted
    snapshot cannot be copied across regions without one, and
    M(amazon.aws.rds_instance_snapshot) (amazon.aws 10) has no option for it, hence this module.
    botocore signs the pre-signed URL of the source region itself.
  - Idempotent by O(snapshot_identifier), an existing copy is returned unchanged.
  - With O(wait), waits until the copy is C(available).
options:
  source_snapshot_arn:
    description: ARN of the snapshot to copy (in O(source_region)).
    type: str
    required: true
  source_region:
    description: Region of the source snapshot.
    type: str
    required: true
  snapshot_identifier:
    description: Identifier of the copy in the destination region.
    type: str
    required: true
  kms_key_id:
    description: KMS key (ARN, ID or alias) of the destination region that encrypts the copy.
    type: str
    required: true
  copy_tags:
    description: Whether the copy gets the source's tags (RDS ignores it when O(tags) is given).
    type: bool
    default: true
  tags:
    description: Tags of the copy.
    type: dict
  wait:
    description: Whether to wait until the copy is available.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the copy with O(wait).
    type: int
    default: 3600
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
author: titanic-ops maintainers (@titanic-ops)
"""

EXAMPLES = r"""
- name: Copy today's snapshot of prod to the DR region
  titanic.ops.rds_snapshot_copy:
    source_snapshot_arn: arn:aws:rds:eu-west-1:430987654321:snapshot:titanic-prod-dr-20260101020000
    source_region: eu-west-1
    snapshot_identifier: titanic-prod-dr-20260101020000
    kms_key_id: arn:aws:kms:eu-central-1:430987654321:key/00000000-0000-0000-0000-000000000000
    region: eu-central-1
"""

RETURN = r"""
snapshot:
  description: The copy as RDS describes it (C(DescribeDBSnapshots), keys in snake case);
    in check mode before a first copy, only C(db_snapshot_identifier).
  returned: success
  type: dict
  contains:
    db_snapshot_identifier:
      description: Identifier of the copy.
      type: str
      sample: titanic-prod-dr-20260101020000
    db_snapshot_arn:
      description: ARN of the copy, in the destination region.
      type: str
      sample: arn:aws:rds:eu-central-1:430987654321:snapshot:titanic-prod-dr-20260101020000
    status:
      description: State of the copy (C(available) once waited for).
      type: str
      sample: available
    kms_key_id:
      description: KMS key encrypting the copy (O(kms_key_id), as an ARN).
      type: str
      sample: arn:aws:kms:eu-central-1:430987654321:key/00000000-0000-0000-0000-000000000000
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
)

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore

WAIT_DELAY_SECONDS = 15


def describe_snapshot(client, identifier: str) -> dict | None:
    """The snapshot of this region with that identifier, None when there is none."""
    try:
        found = client.describe_db_snapshots(DBSnapshotIdentifier=identifier)["DBSnapshots"]
    except client.exceptions.DBSnapshotNotFoundFault:
        return None
    return found[0] if found else None


def copy_parameters(params: dict) -> dict:
    """CopyDBSnapshot's parameters from the module's options."""
    request = {
        "SourceDBSnapshotIdentifier": params["source_snapshot_arn"],
        "TargetDBSnapshotIdentifier": params["snapshot_identifier"],
        "KmsKeyId": params["kms_key_id"],
        "SourceRegion": params["source_region"],
        "CopyTags": params["copy_tags"],
    }
    if params["tags"]:
        request["Tags"] = ansible_dict_to_boto3_tag_list(params["tags"])
    return request


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "source_snapshot_arn": {"type": "str", "required": True},
            "source_region": {"type": "str", "required": True},
            "snapshot_identifier": {"type": "str", "required": True},
            "kms_key_id": {"type": "str", "required": True, "no_log": False},
            "copy_tags": {"type": "bool", "default": True},
            "tags": {"type": "dict"},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "int", "default": 3600},
        },
        supports_check_mode=True,
    )
    params = module.params
    client = module.client("rds")
    changed = False
    try:
        snapshot = describe_snapshot(client, params["snapshot_identifier"])
        if snapshot is None:
            changed = True
            if module.check_mode:
                module.exit_json(
                    changed=True, snapshot={"db_snapshot_identifier": params["snapshot_identifier"]}
                )
            snapshot = client.copy_db_snapshot(**copy_parameters(params))["DBSnapshot"]
        if params["wait"] and snapshot.get("Status") != "available":
            client.get_waiter("db_snapshot_available").wait(
                DBSnapshotIdentifier=params["snapshot_identifier"],
                WaiterConfig={
                    "Delay": WAIT_DELAY_SECONDS,
                    "MaxAttempts": max(1, params["wait_timeout"] // WAIT_DELAY_SECONDS),
                },
            )
            snapshot = describe_snapshot(client, params["snapshot_identifier"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(
            error,
            msg=f"Cannot copy {params['source_snapshot_arn']} to {params['snapshot_identifier']}",
        )
    module.exit_json(
        changed=changed, snapshot=camel_dict_to_snake_dict(snapshot, ignore_list=["TagList"])
    )


if __name__ == "__main__":
    main()
