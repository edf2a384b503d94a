"""Opentact's messaging-profile body (spec §3, §7.3), with the seed's ranges: name 1-255,
URLs 10-255, weights 0-9; `tollfree_weight` and `toll_free_weight` both name the toll-free
weight, `number_pool_enable` may be a boolean or its string."""

from typing import Annotated, Any

from pydantic import AnyHttpUrl, BeforeValidator, Field, model_validator

from msgprofiles.core.schemas import InputModel


def _integral(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _url_length(value: object) -> object:
    if isinstance(value, str) and not 10 <= len(value) <= 255:
        raise ValueError("a URL is 10 to 255 characters")
    return value


def _flag(value: object) -> object:
    return {"true": True, "false": False}.get(value, value) if isinstance(value, str) else value


Weight = Annotated[int, BeforeValidator(_integral), Field(ge=0, le=9)]
Url = Annotated[AnyHttpUrl, BeforeValidator(_url_length)]
Flag = Annotated[bool, BeforeValidator(_flag)]


class _Profile(InputModel):
    callback_url: Url | None = None
    callback_url2: Url | None = None
    number_pool_enable: Flag | None = None
    long_code_weight: Weight | None = None
    toll_free_weight: Weight | None = None
    tollfree_weight: Weight | None = None
    skip_unhealthy_tns: bool | None = None
    sticky_sender: bool | None = None

    @model_validator(mode="after")
    def _one_toll_free_weight(self) -> "_Profile":
        both = (self.toll_free_weight, self.tollfree_weight)
        if None not in both and both[0] != both[1]:
            raise ValueError("toll_free_weight and tollfree_weight differ")
        return self

    def messaging(self) -> dict[str, Any]:
        """The native messaging settings sent (null clears a URL)."""
        sent = self.model_dump(mode="json", include=self.model_fields_set)
        settings: dict[str, Any] = {}
        if "callback_url" in sent:
            settings["webhook_url"] = sent["callback_url"]
        if "callback_url2" in sent:
            settings["failover_url"] = sent["callback_url2"]
        pool = {
            ours: sent[theirs]
            for theirs, ours in (
                ("number_pool_enable", "enabled"),
                ("long_code_weight", "long_code_weight"),
                ("toll_free_weight", "toll_free_weight"),
                ("tollfree_weight", "toll_free_weight"),
                ("skip_unhealthy_tns", "skip_unhealthy"),
                ("sticky_sender", "sticky_sender"),
            )
            if sent.get(theirs) is not None
        }
        if pool:
            settings["number_pool"] = pool
        return settings


class ProfileCreate(_Profile):
    name: str = Field(min_length=1, max_length=255)


class ProfileUpdate(_Profile):
    name: str | None = Field(default=None, min_length=1, max_length=255)
