"""The names ``pinpipe aws export`` adds to :mod:`pinpipe.naming` (SPEC §3.3, §8)."""

from __future__ import annotations

import re

from pinpipe.naming import Names


def test_aws_names() -> None:
    names = Names("1232252d77df")
    assert names.connector_topics_regex == "1232252d77df.*"  # the course's, dot unescaped
    assert re.fullmatch(names.connector_topics_regex, "1232252d77df.pin")
    assert names.connect_group == "connect-1232252d77df-connector"
    assert names.rest_api == "1232252d77df"
    assert (names.stack, names.api_stack) == ("1232252d77df-pinpipe", "1232252d77df-pinpipe-api")
    assert names.ec2_access_policy == "1232252d77df-ec2-access-policy"
    assert names.kinesis_access_policy == "1232252d77df-kinesis-access-policy"
    assert names.databricks_policy == "1232252d77df-databricks-access-policy"
    assert names.pinpipe_policy == "1232252d77df-pinpipe-access-policy"
    assert names.databricks_job("batch") == "1232252d77df-pinpipe-batch"
    assert names.databricks_job("stream") == "1232252d77df-pinpipe-stream"
