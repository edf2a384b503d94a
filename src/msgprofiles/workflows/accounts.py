"""A WhatsApp account and the profile that sends from it: the account's rule (a customer's
account serves that customer's profiles) applied to the profile the caller names."""

from msgprofiles.core.auth import Caller
from msgprofiles.db.database import Connection
from msgprofiles.profiles.service import get_profile
from msgprofiles.whatsapp import service as whatsapp
from msgprofiles.whatsapp.schemas import WhatsAppAccount, WhatsAppAccountUpdate


async def update_account(
    conn: Connection, caller: Caller, account_id: str, data: WhatsAppAccountUpdate
) -> WhatsAppAccount:
    customer_id = None
    if data.profile_id is not None:
        customer_id = (await get_profile(conn, caller, data.profile_id)).customer_id
    return await whatsapp.update_account(conn, caller, account_id, data, customer_id)
