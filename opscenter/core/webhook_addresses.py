"""Where outbound webhooks may go: public addresses, and others only inside the networks the settings allow."""

import functools
import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

RULE = _("%(host)s points at %(address)s, a %(kind)s address: webhooks go to public addresses only, unless "
         "the setting WEBHOOK_ALLOWED_NETWORKS allows its network.")


class WebhookAddressRefused(Exception):
    """A webhook's host is, or resolves to, an address webhooks may not be sent to; sending again will not help."""


def refusal(address: Address) -> str | None:
    """The kind of address this is when webhooks may not go to it (loopback, private, link-local, non-public),
    None when they may: a public address, or one inside a network of WEBHOOK_ALLOWED_NETWORKS."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if any(address in network for network in _allowed(tuple(settings.WEBHOOK_ALLOWED_NETWORKS))):
        return None
    if address.is_loopback:
        return str(_("loopback"))
    if address.is_link_local:  # 169.254.169.254, where clouds answer with a machine's credentials
        return str(_("link-local (cloud metadata)"))
    if address.is_private:
        return str(_("private"))
    if not address.is_global or address.is_multicast:
        return str(_("non-public"))
    return None


@functools.cache
def _allowed(networks: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(network, strict=False) for network in networks)


def addresses_of(url: str) -> list[Address]:
    """The addresses a URL's host stands for: itself when it is an address, else every address the name
    resolves to now (socket.gaierror when it resolves to none; ValueError when the URL has no host)."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise ValueError(f"{url!r} names no host")
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    port = parts.port or (443 if parts.scheme == "https" else 80)
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in found))


def refused_because(url: str, addresses: list[Address]) -> str | None:
    """The rule's words for the first address of the URL's host that webhooks may not go to, if any."""
    for address in addresses:
        kind = refusal(address)
        if kind is not None:
            return RULE % {"host": urlsplit(url).hostname, "address": address, "kind": kind}
    return None


def validate_webhook_url(url: str) -> None:
    """Saving an endpoint: its host may not be, or resolve to, an address webhooks may not go to. A name that
    does not resolve now is accepted (the URL validator reports a malformed one); every delivery checks again."""
    try:
        addresses = addresses_of(url)
    except (ValueError, OSError):
        return
    reason = refused_because(url, addresses)
    if reason is not None:
        raise ValidationError(reason, code="webhook_address")


def check_before_sending(url: str) -> None:
    """Sending: every address the host resolves to now must be one webhooks may go to (WebhookAddressRefused);
    a name that resolves to none fails this attempt like a refused connection (OSError), to be tried again."""
    reason = refused_because(url, addresses_of(url))
    if reason is not None:
        raise WebhookAddressRefused(reason)
