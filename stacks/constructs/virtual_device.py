"""A virtual Greengrass core device: an EC2 instance that becomes a challenge stack's
device, for attendees without hardware (``-c datapalooza:virtual_device=true``)."""

from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path

from aws_cdk import Aws, CfnOutput, CustomResource, Fn, Stack, Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct, IConstruct

from stacks.build.custom_resource_function import custom_resource_function
from stacks.build.requirements import REPO_ROOT
from stacks.build.virtual_footage import festival_footage
from stacks.constructs.asset_access import read_asset_object
from stacks.constructs.greengrass_core import GreengrassCore, iot_arn
from stacks.greengrass_components import NUCLEUS, installer_url

CERTIFICATE_HANDLER = REPO_ROOT / "lambdas" / "device_certificate"

# The smallest burstable size with room for the device: the nucleus (a JVM; AWS's
# minimum is 96 MB of RAM for it alone, components excluded:
# https://docs.aws.amazon.com/greengrass/v2/developerguide/setting-up.html#greengrass-v2-requirements),
# the Lambda launcher, the device program (the edge program's detector holds ~200-350 MB
# RSS), the SSM agent and the OS, plus dnf installing Java at first boot. 1 GiB (micro)
# leaves too little headroom for that; 2 GiB (small) does. Graviton for the aarch64
# bundles (the default device_architecture), its x86_64 twin otherwise.
INSTANCE_TYPES = {"aarch64": "t4g.small", "x86_64": "t3.small"}
_CPU_TYPES = {"aarch64": ec2.AmazonLinuxCpuType.ARM_64, "x86_64": ec2.AmazonLinuxCpuType.X86_64}
ROOT_VOLUME_GIB = 12  # AL2023 (~2 GiB) + Corretto + Python + two component packages + logs
GREENGRASS_ROOT = "/greengrass/v2"
FOOTAGE_PATH = "/opt/datapalooza/footage/festival.mp4"
FOOTAGE_SOURCE = f"file:{FOOTAGE_PATH}?loop"
"""The source spec the device programs get when the virtual device is on."""
# AL2023's system C library ("glibc 2.34":
# https://docs.aws.amazon.com/linux/al2023/ug/core-glibc.html): the device packages'
# manylinux wheels (stacks/bundling.py) must need no newer one.
AL2023_GLIBC = (2, 34)
JAVA_PACKAGE = "java-17-amazon-corretto-headless"
ROOT_CA_URL = "https://www.amazontrust.com/repository/AmazonRootCA1.pem"
# The SSM agent's Session Manager channels: the instance-profile permissions AWS lists
# for Session Manager (the AWSCloud9SSMInstanceProfile managed policy is exactly these),
# without the rest of AmazonSSMManagedInstanceCore (patching, inventory, parameters).
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSCloud9SSMInstanceProfile.html
SESSION_MANAGER_ACTIONS = (
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)


def instance_type_for(architecture: str) -> str:
    """The instance type for a device bundle built for ``architecture``."""
    if architecture not in INSTANCE_TYPES:
        raise ValueError(
            f"device architecture {architecture!r}: expected one of {', '.join(INSTANCE_TYPES)}"
        )
    return INSTANCE_TYPES[architecture]


def device_source(configured: str, *, virtual: bool) -> str:
    """The camera source the device program gets: the virtual device's footage, or the
    configured one for a real device."""
    return FOOTAGE_SOURCE if virtual else configured


class VirtualCoreDevice(Construct):
    """An EC2 instance that installs the pinned Greengrass nucleus at first boot and runs
    as ``core``'s thing, playing ``footage`` as its camera.

    Provisioning: the stack, not the instance, makes the device's certificate (a custom
    resource, ``lambdas/device_certificate``) and keeps it in a Secrets Manager secret;
    the installer runs with ``--init-config`` (manual provisioning), so the instance role
    may only read that secret and the footage, and open Session Manager sessions. No SSH
    key, no inbound rule, IMDSv2 only, encrypted root volume.

    ``cdk destroy``: the instance goes first (it depends on the certificate resource and
    on ``after``), then the certificate resource retires the certificate and deletes the
    core device record, then the thing and its policies go.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        core: GreengrassCore,
        policy_names: list[str],
        footage: Path,
        architecture: str,
        python_version: str,
        log_retention: logs.RetentionDays,
        after: IConstruct,
    ) -> None:
        super().__init__(scope, id)
        self.instance_type = instance_type_for(architecture)
        self.footage = s3_assets.Asset(self, "Footage", path=str(footage))
        self.secret = secretsmanager.Secret(
            self,
            "Certificate",
            description=f"X.509 certificate and private key of {core.thing_name} (virtual "
            "device); written by the stack, read by the instance only",
        )
        self.certificate = self._certificate(core, policy_names, log_retention)
        # Made only once the device's whole construct (thing, policies, component,
        # deployment, and the core device teardown where a stack has one) exists.
        self.certificate.node.add_dependency(after)

        self.role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description=f"Virtual core device {core.thing_name}: Session Manager, its "
            "footage, its certificate",
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="SessionManager",
                # These actions have no resource-level permissions.
                actions=list(SESSION_MANAGER_ACTIONS),
                resources=["*"],
            )
        )
        self.role.add_to_principal_policy(read_asset_object("ReadFootage", self.footage))
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadDeviceCertificate",
                actions=["secretsmanager:GetSecretValue"],
                resources=[self.secret.secret_arn],
            )
        )
        profile = iam.CfnInstanceProfile(self, "InstanceProfile", roles=[self.role.role_name])

        # No VpcId: the group (and the instance) go into the region's default VPC, one
        # per account, so any number of attendees' devices use no VPC quota. No ingress
        # rule at all; egress stays CloudFormation's default (all outbound): restricting
        # it needs the VPC's id, which a default VPC only gives by a lookup at synth.
        self.security_group = ec2.CfnSecurityGroup(
            self,
            "SecurityGroup",
            group_description=f"Virtual core device {core.thing_name}: no inbound rule "
            "(Session Manager only)",
        )
        # IMDSv2 only; one hop: nothing in a container needs the instance's credentials.
        self.launch_template = ec2.CfnLaunchTemplate(
            self,
            "LaunchTemplate",
            launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
                metadata_options=ec2.CfnLaunchTemplate.MetadataOptionsProperty(
                    http_endpoint="enabled",
                    http_tokens="required",
                    http_put_response_hop_limit=1,
                )
            ),
        )
        image = ec2.MachineImage.latest_amazon_linux2023(
            cpu_type=_CPU_TYPES[architecture]
        ).get_image(self)
        self.user_data = self._user_data(core, python_version)
        self.instance = ec2.CfnInstance(
            self,
            "Instance",
            image_id=image.image_id,
            instance_type=self.instance_type,
            iam_instance_profile=profile.ref,
            security_group_ids=[self.security_group.attr_group_id],
            monitoring=False,  # basic (5-minute) metrics are free; detailed ones are not
            block_device_mappings=[
                ec2.CfnInstance.BlockDeviceMappingProperty(
                    device_name="/dev/xvda",  # AL2023's root device
                    ebs=ec2.CfnInstance.EbsProperty(
                        volume_size=ROOT_VOLUME_GIB,
                        volume_type="gp3",
                        encrypted=True,
                        delete_on_termination=True,
                    ),
                )
            ],
            launch_template=ec2.CfnInstance.LaunchTemplateSpecificationProperty(
                launch_template_id=self.launch_template.ref,
                version=self.launch_template.attr_latest_version_number,
            ),
            user_data=Fn.base64(self.user_data.render()),
        )
        Tags.of(self.instance).add("Name", core.thing_name)
        # User data runs at first boot only, and CloudFormation updates a changed one by
        # stopping and starting the instance: the new script would never run. A logical
        # id that carries the script's hash makes any change (footage, nucleus version,
        # thing, certificate) a fresh instance instead.
        stack = Stack.of(self)
        script = json.dumps(stack.resolve(self.instance.user_data), sort_keys=True)
        self.instance.override_logical_id(
            stack.get_logical_id(self.instance) + hashlib.sha256(script.encode()).hexdigest()[:8]
        )
        # Deleted first on `cdk destroy`: a running nucleus would report to the core
        # device record again after the certificate resource deleted it.
        self.instance.node.add_dependency(self.certificate, self.role)

    def _certificate(
        self,
        core: GreengrassCore,
        policy_names: list[str],
        log_retention: logs.RetentionDays,
    ) -> CustomResource:
        function = custom_resource_function(
            self,
            "CertificateFunction",
            handler_dir=CERTIFICATE_HANDLER,
            description=f"Makes and retires the certificate of {core.thing_name} (virtual device)",
            service_name="datapalooza-device-certificate",
            log_retention=log_retention,
        )
        role = function.role
        assert role is not None
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="MakeCertificate",
                # Neither action has resource-level permissions (the certificate does not
                # exist yet; endpoints are per account).
                actions=["iot:CreateKeysAndCertificate", "iot:DescribeEndpoint"],
                resources=["*"],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="AttachToTheThing",
                actions=[
                    "iot:AttachThingPrincipal",
                    "iot:DetachThingPrincipal",
                    "iot:ListThingPrincipals",
                ],
                resources=[core.thing_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                # The certificate id is made at run time; AttachPolicy's resource is its
                # target, the certificate.
                sid="ManageItsCertificate",
                actions=[
                    "iot:AttachPolicy",
                    "iot:DescribeCertificate",
                    "iot:UpdateCertificate",
                    "iot:DeleteCertificate",
                ],
                resources=[iot_arn("cert/*")],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="StoreIt",
                actions=["secretsmanager:PutSecretValue"],
                resources=[self.secret.secret_arn],
            )
        )
        core.grant_delete_record(role)
        self.certificate_function = function
        resource = CustomResource(
            self,
            "DeviceCertificate",
            service_token=function.function_arn,
            resource_type="Custom::GreengrassDeviceCertificate",
            properties={
                "ThingName": core.thing_name,
                "PolicyNames": policy_names,
                "SecretArn": self.secret.secret_arn,
            },
        )
        resource.node.add_dependency(core.thing, core.policy, role)
        return resource

    def _user_data(self, core: GreengrassCore, python_version: str) -> ec2.UserData:
        """First boot: Java and Python, the footage, the certificate, the pinned nucleus
        with manual provisioning (``--init-config``), running as a system service."""
        root = GREENGRASS_ROOT
        installer_dir = "/opt/GreengrassInstaller"
        installer_zip = f"/opt/greengrass-nucleus-{NUCLEUS.version}.zip"
        config = "\n".join(
            [
                "---",
                "system:",
                f'  certificateFilePath: "{root}/device.pem.crt"',
                f'  privateKeyPath: "{root}/private.pem.key"',
                f'  rootCaPath: "{root}/AmazonRootCA1.pem"',
                f'  rootpath: "{root}"',
                f'  thingName: "{core.thing_name}"',
                "services:",
                f"  {NUCLEUS.name}:",
                '    componentType: "NUCLEUS"',
                f'    version: "{NUCLEUS.version}"',
                "    configuration:",
                f'      awsRegion: "{Aws.REGION}"',
                f'      iotRoleAlias: "{core.role_alias.role_alias}"',
                f'      iotDataEndpoint: "{self.certificate.get_att_string("DataEndpoint")}"',
                f'      iotCredEndpoint: "{self.certificate.get_att_string("CredentialEndpoint")}"',
            ]
        )
        split_secret = (
            "import json, os, sys; s = json.load(sys.stdin); "
            f"os.umask(0o077); open('{root}/device.pem.crt', 'w').write(s['certificatePem']); "
            f"open('{root}/private.pem.key', 'w').write(s['privateKey'])"
        )
        footage_url = f"s3://{self.footage.s3_bucket_name}/{self.footage.s3_object_key}"
        user_data = ec2.UserData.for_linux()
        user_data.add_commands(
            "set -euo pipefail",
            "exec > >(tee -a /var/log/datapalooza-virtual-device.log) 2>&1",
            f"dnf install -y {JAVA_PACKAGE} python{python_version} unzip",
            # The camera: the stack's footage, readable by the component user.
            f"install -d -m 0755 {shlex.quote(str(Path(FOOTAGE_PATH).parent))}",
            f"aws s3 cp --region {Aws.REGION} {footage_url} {FOOTAGE_PATH}",
            f"chmod 0644 {FOOTAGE_PATH}",
            # The device identity the stack made: certificate and key, root only.
            f"install -d -m 0755 {root}",
            f"aws secretsmanager get-secret-value --region {Aws.REGION} "
            f"--secret-id {self.secret.secret_arn} --query SecretString --output text "
            f'| python3 -c "{split_secret}"',
            f"curl -fsSL {ROOT_CA_URL} -o {root}/AmazonRootCA1.pem",
            # Exactly the pinned nucleus (stacks/greengrass_components.py).
            # Beside the installer, not under the world-writable /tmp: root writes it.
            f"curl -fsSL {installer_url()} -o {installer_zip}",
            f"unzip -q -o {installer_zip} -d {installer_dir}",
            f"rm {installer_zip}",
            f"cat > {installer_dir}/config.yaml <<'CONFIG'\n{config}\nCONFIG",
            f"java -Droot={root} -Dlog.store=FILE -jar {installer_dir}/lib/Greengrass.jar "
            f"--init-config {installer_dir}/config.yaml "
            "--component-default-user ggc_user:ggc_group --setup-system-service true",
        )
        return user_data


def add_virtual_device(
    scope: Construct,
    id: str,
    *,
    device: IConstruct,
    core: GreengrassCore,
    stage: str,
    architecture: str,
    python_version: str,
    log_retention: logs.RetentionDays,
) -> VirtualCoreDevice:
    """``device``'s virtual twin in ``scope``, playing footage of ``stage``, with the
    instance id as a stack output ``<id>InstanceId`` (``aws ssm start-session --target``)."""
    virtual = VirtualCoreDevice(
        scope,
        id,
        core=core,
        policy_names=[core.policy_name],
        footage=festival_footage(stage=stage),
        architecture=architecture,
        python_version=python_version,
        log_retention=log_retention,
        after=device,
    )
    CfnOutput(scope, f"{id}InstanceId", value=virtual.instance.ref)
    return virtual
