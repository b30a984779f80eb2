from __future__ import annotations

import re

from pinpipe.naming import Names


def test_course_names() -> None:
    names = Names("1232252d77df")
    assert names.topics == ("1232252d77df.pin", "1232252d77df.geo", "1232252d77df.user")
    assert names.streams == (
        "streaming-1232252d77df-pin",
        "streaming-1232252d77df-geo",
        "streaming-1232252d77df-user",
    )
    assert names.bucket == "user-1232252d77df-bucket"
    assert names.delta_tables == (
        "1232252d77df_pin_table",
        "1232252d77df_geo_table",
        "1232252d77df_user_table",
    )
    assert names.dag_id == "1232252d77df_dag"
    assert names.dag_file == "1232252d77df_dag.py"
    assert names.connector == "1232252d77df-connector"
    assert names.connect_plugin == "1232252d77df-plugin"
    assert names.ec2_access_role == "1232252d77df-ec2-access-role"
    assert names.kinesis_access_role == "1232252d77df-kinesis-access-role"
    assert names.key_pair == "1232252d77df-key-pair.pem"


def test_topics_regex_matches_only_own_topics() -> None:
    pattern = re.compile(Names("129a67850695").topics_regex)
    assert all(pattern.fullmatch(t) for t in Names("129a67850695").topics)
    assert not pattern.fullmatch("129a67850695Xpin")
    assert not pattern.fullmatch("1232252d77df.pin")
