"""What the three challenge stacks share: one deployment's settings and names, and the
virtual twin a device stack adds when the settings ask for one."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from aws_cdk import Environment, Stack
from constructs import Construct

from stacks.constructs.device_program import DeviceProgram
from stacks.constructs.virtual_device import VirtualCoreDevice, add_virtual_device
from stacks.names import AppNames
from stacks.settings import AppSettings


class ChallengeArgs(TypedDict):
    """What ``build_app`` (and a test) gives every challenge stack."""

    settings: AppSettings
    names: AppNames
    env: NotRequired[Environment | None]
    description: NotRequired[str]


class ChallengeStack(Stack):
    """A workshop challenge's stack, built from the deployment's ``settings`` and
    ``names`` (every physical name: stacks/names.py)."""

    def __init__(
        self, scope: Construct, id: str, *, settings: AppSettings, names: AppNames, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.settings = settings
        self.names = names

    def add_virtual_twin(
        self, id: str, *, device: DeviceProgram, stage: str
    ) -> VirtualCoreDevice | None:
        """``device``'s virtual twin playing footage of ``stage`` when the settings ask
        for one (``-c datapalooza:virtual_device=true``), else None."""
        if not self.settings.virtual_device:
            return None
        return add_virtual_device(
            self,
            id,
            device=device,
            core=device.core,
            stage=stage,
            architecture=self.settings.device_architecture,
            python_version=self.settings.device_python,
            log_retention=self.settings.log_retention,
        )
