"""Every name in the pipeline derives from the user id, here and nowhere else (SPEC §8)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RecordKindName = Literal["pin", "geo", "user"]
KINDS: tuple[RecordKindName, ...] = ("pin", "geo", "user")


@dataclass(frozen=True, slots=True)
class Names:
    """The course's names for one user id (e.g. ``1232252d77df``)."""

    user_id: str

    def topic(self, kind: RecordKindName) -> str:
        """Kafka topic: ``<uid>.pin``."""
        return f"{self.user_id}.{kind}"

    def stream(self, kind: RecordKindName) -> str:
        """Kinesis stream: ``streaming-<uid>-pin``."""
        return f"streaming-{self.user_id}-{kind}"

    def delta_table(self, kind: RecordKindName) -> str:
        """Delta table written by the streaming job: ``<uid>_pin_table``."""
        return f"{self.user_id}_{kind}_table"

    @property
    def topics(self) -> tuple[str, str, str]:
        return (self.topic("pin"), self.topic("geo"), self.topic("user"))

    @property
    def streams(self) -> tuple[str, str, str]:
        return (self.stream("pin"), self.stream("geo"), self.stream("user"))

    @property
    def delta_tables(self) -> tuple[str, str, str]:
        return (self.delta_table("pin"), self.delta_table("geo"), self.delta_table("user"))

    @property
    def topics_regex(self) -> str:
        """The S3 sink connector's ``topics.regex``: ``<uid>.*`` with the dot escaped."""
        return f"{self.user_id}\\..*"

    @property
    def bucket(self) -> str:
        return f"user-{self.user_id}-bucket"

    @property
    def dag_id(self) -> str:
        return f"{self.user_id}_dag"

    @property
    def dag_file(self) -> str:
        return f"{self.user_id}_dag.py"

    @property
    def key_pair(self) -> str:
        return f"{self.user_id}-key-pair.pem"

    @property
    def ec2_access_role(self) -> str:
        return f"{self.user_id}-ec2-access-role"

    @property
    def kinesis_access_role(self) -> str:
        return f"{self.user_id}-kinesis-access-role"

    @property
    def connect_plugin(self) -> str:
        return f"{self.user_id}-plugin"

    @property
    def connector(self) -> str:
        return f"{self.user_id}-connector"

    # -- on AWS (``pinpipe aws export``) ------------------------------------------------------

    @property
    def connector_topics_regex(self) -> str:
        """``topics.regex`` exactly as the course's connector configuration writes it
        (SPEC §3.3): ``<uid>.*``, dot unescaped. pinpipe's own sink uses :attr:`topics_regex`."""
        return f"{self.user_id}.*"

    @property
    def connect_group(self) -> str:
        """Kafka Connect's consumer group of the S3 sink connector: ``connect-<uid>-connector``."""
        return f"connect-{self.connector}"

    @property
    def rest_api(self) -> str:
        """The API Gateway REST API: AiCore names it after the user id."""
        return self.user_id

    @property
    def stack(self) -> str:
        """The CloudFormation stack of ``pinpipe aws export``: ``<uid>-pinpipe``."""
        return f"{self.user_id}-pinpipe"

    @property
    def api_stack(self) -> str:
        """The CloudFormation stack of the REST API: ``<uid>-pinpipe-api``."""
        return f"{self.user_id}-pinpipe-api"

    @property
    def ec2_access_policy(self) -> str:
        return f"{self.user_id}-ec2-access-policy"

    @property
    def kinesis_access_policy(self) -> str:
        return f"{self.user_id}-kinesis-access-policy"

    @property
    def databricks_policy(self) -> str:
        """Managed policy for the Databricks cluster's instance profile role."""
        return f"{self.user_id}-databricks-access-policy"

    @property
    def pinpipe_policy(self) -> str:
        """Managed policy for whoever runs pinpipe's own stages against AWS."""
        return f"{self.user_id}-pinpipe-access-policy"

    def databricks_job(self, job: Literal["batch", "stream"]) -> str:
        """Databricks job: ``<uid>-pinpipe-batch``, ``<uid>-pinpipe-stream``."""
        return f"{self.user_id}-pinpipe-{job}"
