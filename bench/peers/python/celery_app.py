"""The Celery application of the peer benchmark: one zero-work task. Broker and backend from the
environment (PEER_BROKER, PEER_BACKEND), both a private valkey-server speaking the Redis protocol."""

import os
import time

import redis
from celery import Celery
from celery.backends import redis as celery_redis

# valkey-server 8.0.0 and 8.0.1 answer UNSUBSCRIBE outside subscribed mode with a NOSUB error (reverted
# in later releases: valkey-io/valkey#1228, #1265); Redis and later Valkey answer normally. Celery's
# result consumer unsubscribes after each result, so treat NOSUB as the no-op it is elsewhere.
_cancel_for = celery_redis.ResultConsumer.cancel_for


def _cancel_for_tolerant(self, task_id):
    try:
        _cancel_for(self, task_id)
    except redis.exceptions.ResponseError as e:
        if not str(e).startswith("NOSUB"):
            raise


celery_redis.ResultConsumer.cancel_for = _cancel_for_tolerant

# The same error can come back asynchronously, read with the next pubsub message: drop it there too.
_parse_response = redis.client.PubSub.parse_response


def _parse_response_tolerant(self, *args, **kwargs):
    try:
        return _parse_response(self, *args, **kwargs)
    except redis.exceptions.ResponseError as e:
        if not str(e).startswith("NOSUB"):
            raise
        return None


redis.client.PubSub.parse_response = _parse_response_tolerant

app = Celery("chorus_peer", broker=os.environ["PEER_BROKER"], backend=os.environ["PEER_BACKEND"])
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="noop")
def noop():
    return None


@app.task(name="sleep_ms")
def sleep_ms(ms):
    start = time.time()
    time.sleep(ms / 1000)
    return [start, time.time()]
