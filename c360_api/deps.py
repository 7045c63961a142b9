"""FastAPI dependencies as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from c360_api.settings import ApiSettings, get_settings

SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
