"""Run on AWS: the infrastructure as files (``pinpipe aws export``) and ``pinpipe doctor``.

* :func:`export_aws` writes the MSK Connect connector, the API Gateway OpenAPI document, the
  IAM policies, the MWAA DAG, the Databricks notebooks and jobs and a CloudFormation template,
  every name derived from the user id (:mod:`pinpipe.naming`);
* :func:`run_doctor` checks each configured endpoint (source, topics, streams, lake, engine,
  API) with a short timeout and says what works, what is missing and the fix.
"""

from __future__ import annotations

from pinpipe.aws.doctor import Check, DoctorReport, Probe, run_doctor
from pinpipe.aws.export import AwsExport, AwsExportError, ExportedFile, export_aws
from pinpipe.aws.target import AwsOptions, AwsTarget

__all__ = [
    "AwsExport",
    "AwsExportError",
    "AwsOptions",
    "AwsTarget",
    "Check",
    "DoctorReport",
    "ExportedFile",
    "Probe",
    "export_aws",
    "run_doctor",
]
