import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from messaging.gateway import ReplyGateway


class Command(BaseCommand):
    help = (
        "Serve SMTP for replies to message e-mails (reply+<token>@PLURAL_REPLY_DOMAIN) and post "
        "them into their conversations. Runs until stopped (SIGTERM or Ctrl-C)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.PLURAL_MAIL_GATEWAY_HOST, help="address to listen on")
        parser.add_argument("--port", type=int, default=settings.PLURAL_MAIL_GATEWAY_PORT, help="port to listen on")

    def handle(self, *args, host: str, port: int, **options):
        stopping = threading.Event()
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signal_number, lambda *_: stopping.set())
        gateway = ReplyGateway(host=host, port=port).start()
        self.stdout.write(f"Reply gateway for @{settings.PLURAL_REPLY_DOMAIN} listening on {host}:{port}", ending="\n")
        self.stdout.flush()
        try:
            stopping.wait()
        finally:
            gateway.stop()
            self.stdout.write("Reply gateway stopped.")
