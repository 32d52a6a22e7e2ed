"""Outbound webhooks go to public addresses only: loopback, private, link-local (cloud metadata) and other
non-public addresses are refused when an endpoint is saved (a form error naming the rule) and again when a
delivery is sent, after resolving its name (the delivery fails at once, with the reason, and is not retried),
unless WEBHOOK_ALLOWED_NETWORKS allows the network. And deliveries are at-least-once: a delivery sent again
carries the same X-OpsCenter-Delivery id, on which receivers deduplicate."""

import http.server
import json
import threading
from datetime import timedelta
from unittest import mock

import pytest
import requests
from django.core.exceptions import ValidationError
from django.utils import timezone

from opscenter.core import outbox, roles
from opscenter.core.choices import Channel, DeliveryStatus
from opscenter.core.models import Notification, WebhookEndpoint
from opscenter.core.tasks import sweep_outbox

pytestmark = pytest.mark.django_db

REFUSED = {
    "http://127.0.0.1:8000/hook": "loopback",
    "http://127.9.9.9/hook": "loopback",
    "http://[::1]/hook": "loopback",
    "http://[::ffff:127.0.0.1]/hook": "loopback",
    "http://10.1.2.3/hook": "private",
    "http://172.16.0.1/hook": "private",
    "http://172.31.255.254/hook": "private",
    "http://192.168.1.10/hook": "private",
    "http://169.254.169.254/latest/meta-data/": "link-local (cloud metadata)",
    "http://[fe80::1]/hook": "link-local (cloud metadata)",
    "http://[fd00::1]/hook": "private",
    "http://[fd00:ec2::254]/latest/meta-data/": "private",
    "http://0.0.0.0/hook": "private",
    "http://100.100.100.200/latest/meta-data/": "non-public",
}


def endpoint(url: str, **fields) -> WebhookEndpoint:  # noqa: ANN003
    """An endpoint written as it was before the rule, or as its name resolved when it was saved."""
    return WebhookEndpoint.objects.create(name=url[:120], url=url, **fields)


def queued_delivery(webhook: WebhookEndpoint) -> Notification:
    with mock.patch("opscenter.core.tasks.deliver_notifications.apply_async"):
        outbox.notify(event="incident.urgent", recipients=[], subject="P1 ERP down", endpoints=[webhook])
    return Notification.objects.get(channel=Channel.WEBHOOK, webhook=webhook)


def posted(status: int = 204, **fields) -> mock.Mock:  # noqa: ANN003
    return mock.Mock(return_value=mock.Mock(status_code=status, **fields))


# --- When an endpoint is saved --------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "kind"), REFUSED.items(), ids=list(REFUSED))
def test_saving_an_endpoint_at_a_non_public_address_is_refused_naming_the_rule(url, kind) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError) as refused:
        WebhookEndpoint(name="hook", url=url).full_clean()
    [message] = refused.value.message_dict["url"]
    assert f"a {kind} address" in message and "WEBHOOK_ALLOWED_NETWORKS" in message
    assert refused.value.error_dict["url"][0].code == "webhook_address"


def test_a_name_that_resolves_to_a_private_address_is_refused(public_dns) -> None:  # noqa: ANN001
    public_dns.answer("hooks.corp.example", "93.184.215.14", "10.0.0.7")  # one of its addresses is enough
    with pytest.raises(ValidationError) as refused:
        WebhookEndpoint(name="hook", url="https://hooks.corp.example/in").full_clean()
    assert "hooks.corp.example points at 10.0.0.7, a private address" in refused.value.message_dict["url"][0]
    public_dns.answer("localhost", "127.0.0.1")
    with pytest.raises(ValidationError):
        WebhookEndpoint(name="hook", url="http://localhost:9000/").full_clean()


def test_a_public_address_and_an_allowed_network_are_accepted(public_dns, settings) -> None:  # noqa: ANN001
    WebhookEndpoint(name="chat", url="https://chat.example.com/hooks/ops").full_clean()
    assert public_dns.names == ["chat.example.com"]
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16", "fd00:20::/64"]
    for url in ("http://10.20.1.5/hook", "http://[fd00:20::5]/hook"):
        WebhookEndpoint(name="hook", url=url).full_clean()
    with pytest.raises(ValidationError):
        WebhookEndpoint(name="hook", url="http://10.21.0.1/hook").full_clean()


def test_a_name_that_does_not_resolve_yet_is_saved_and_checked_when_sent(monkeypatch) -> None:  # noqa: ANN001
    import socket

    def nothing(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", nothing)
    WebhookEndpoint(name="hook", url="https://not-yet.example.com/hook").full_clean()


def test_the_admin_form_names_the_rule(make_user, client) -> None:  # noqa: ANN001
    supervisor = make_user(roles.SUPERVISOR, username="boss", is_staff=True)
    client.force_login(supervisor)
    response = client.post("/admin/core/webhookendpoint/add/", {
        "name": "metadata", "url": "http://169.254.169.254/latest/meta-data/", "events": "[]", "is_active": "on",
        "language": ""})
    assert response.status_code == 200
    assert "a link-local (cloud metadata) address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


# --- When a delivery is sent ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/hook", "http://169.254.169.254/latest/meta-data/",
                                 "http://[fd00::1]/hook"])
def test_a_delivery_to_a_refused_address_fails_at_once_with_the_reason(url) -> None:  # noqa: ANN001
    row = queued_delivery(endpoint(url))
    post = posted()
    with mock.patch("opscenter.core.outbox.requests.post", post):
        assert outbox.deliver(row.pk) is False
        assert sweep_outbox() == 0  # not tried again
    post.assert_not_called()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    assert row.last_error.startswith("WebhookAddressRefused: ") and "WEBHOOK_ALLOWED_NETWORKS" in row.last_error


def test_a_name_that_resolves_to_a_private_address_when_sent_is_refused(public_dns) -> None:  # noqa: ANN001
    row = queued_delivery(endpoint("https://hooks.example.com/ops"))  # public when it was saved
    public_dns.answer("hooks.example.com", "192.168.7.7")  # …and private now
    post = posted()
    with mock.patch("opscenter.core.outbox.requests.post", post):
        outbox.deliver(row.pk)
    post.assert_not_called()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and "points at 192.168.7.7, a private address" in row.last_error


def test_an_allowed_network_is_delivered_to(settings) -> None:  # noqa: ANN001
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    row = queued_delivery(endpoint("http://10.1.2.3/hook"))
    post = posted()
    with mock.patch("opscenter.core.outbox.requests.post", post):
        assert outbox.deliver(row.pk) is True
    assert post.call_args.args[0] == "http://10.1.2.3/hook"


def test_a_name_that_does_not_resolve_when_sent_is_tried_again_later(monkeypatch) -> None:  # noqa: ANN001
    import socket

    def nothing(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    row = queued_delivery(endpoint("https://hooks.example.com/ops"))
    monkeypatch.setattr(socket, "getaddrinfo", nothing)
    post = posted()
    with mock.patch("opscenter.core.outbox.requests.post", post):
        outbox.deliver(row.pk)
    post.assert_not_called()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1) and "name resolution" in row.last_error


@pytest.mark.usefixtures("public_dns")
def test_a_redirect_is_not_followed() -> None:
    """It could lead to an address the rule refuses; the delivery is tried again later, like an error answer."""
    row = queued_delivery(endpoint("https://hooks.example.com/ops"))
    post = posted(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    with mock.patch("opscenter.core.outbox.requests.post", post):
        assert outbox.deliver(row.pk) is False
    assert post.call_args.kwargs["allow_redirects"] is False
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING and "302 redirect" in row.last_error


class Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook receiver on loopback: what it was sent."""

    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append({"delivery": self.headers["X-OpsCenter-Delivery"], "id": body["id"]})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@pytest.fixture
def receiver():  # noqa: ANN201
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()
    Receiver.received.clear()


def test_a_receiver_on_loopback_gets_deliveries_only_when_its_network_is_allowed(receiver, settings) -> None:  # noqa: ANN001
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    refused = queued_delivery(endpoint(receiver, events=["incident.urgent"]))
    assert outbox.deliver(refused.pk) is False
    assert Receiver.received == []

    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    WebhookEndpoint(name="local", url=receiver).full_clean()
    row = queued_delivery(WebhookEndpoint.objects.create(name="local", url=receiver))
    assert outbox.deliver(row.pk) is True
    assert Receiver.received == [{"delivery": str(row.pk), "id": row.pk}]


# --- At least once ----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("public_dns")
def test_a_delivery_sent_again_carries_the_same_delivery_id() -> None:
    """After an error answer, and after a worker that died between sending and recording it (the sweep sends it
    again once its claim times out): each time the same X-OpsCenter-Delivery and body id."""
    row = queued_delivery(endpoint("https://hooks.example.com/ops"))
    post = mock.Mock(side_effect=[requests.ConnectionError("reset"), mock.Mock(status_code=204),
                                  mock.Mock(status_code=204)])
    with mock.patch("opscenter.core.outbox.requests.post", post):
        assert outbox.deliver(row.pk) is False
        Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        assert outbox.deliver(row.pk) is True
        # The worker that sent it died before writing "sent": the row stays claimed until the claim times out.
        Notification.objects.filter(pk=row.pk).update(status=DeliveryStatus.SENDING,
                                                      claimed_at=timezone.now() - timedelta(hours=1))
        assert sweep_outbox() == 1
    ids = {(call.kwargs["headers"]["X-OpsCenter-Delivery"], json.loads(call.kwargs["data"])["id"])
           for call in post.call_args_list}
    assert post.call_count == 3 and ids == {(str(row.pk), row.pk)}
