"""What the Sent.dm dialect's tests share: a live server with the SDK pointed at it, and a
brand and campaign as the SDK sends them."""

import httpx
from sent_dm import Sent

SAMPLE = "Acme: your order 1234 has shipped. Reply STOP to opt out."
BRAND = {
    "contact": {
        "name": "Ann Lee",
        "businessName": "Acme",
        "email": "ann@acme.example.com",
        "phone": "+15125550100",
        "role": "CEO",
    },
    "compliance": {
        "brandRelationship": "SMALL_ACCOUNT",
        "vertical": "TECHNOLOGY",
        "destinationCountries": [{"id": "US", "isMain": True}],
        "isTcrApplication": True,
        "phoneNumberPrefix": "+1",
    },
    "business": {
        "legalName": "Acme Inc.",
        "taxId": "12-3456789",
        "taxIdType": "us_ein",
        "entityType": "PRIVATE_PROFIT",
        "url": "https://acme.example.com",
        "street": "1 Main St",
        "city": "Austin",
        "state": "TX",
        "postalCode": "73301",
        "country": "US",
        "countryOfRegistration": "US",
    },
}
CAMPAIGN = {
    "name": "Order updates",
    "description": "Shipping and delivery notifications for orders placed at acme.example.",
    "type": "App",
    "useCases": [{"messagingUseCaseUs": "DELIVERY_NOTIFICATION", "sampleMessages": [SAMPLE]}],
    "messageFlow": "Customers tick an opt-in box at checkout on acme.example/checkout.",
    "optoutKeywords": "STOP, QUIT",
    "optoutMessage": "Acme: you are unsubscribed. Reply STOP again to confirm.",
    "volume": "1999",
}


class Server:
    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.key = key
        self.base_url = f"{url}/dialects/sentdm"

    def client(self, key: str | None = None, **options: object) -> Sent:
        return Sent(api_key=key or self.key, base_url=self.base_url, **options)  # type: ignore[arg-type]

    def native(self, method: str, path: str, **kw: object) -> dict:
        response = httpx.request(method, f"{self.url}{path}", headers={"x-api-key": self.key}, **kw)  # type: ignore[arg-type]
        assert response.is_success, response.text
        return response.json()
