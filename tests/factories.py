from decimal import Decimal

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
from catalog.models import Condition

TEST_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    display_name = factory.Faker("name")
    city = factory.Faker("city")
    country = "GB"

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or TEST_PASSWORD)
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.get_or_create(
                user=self, email=self.email, defaults={"verified": True, "primary": True}
            )


class ShopFactory(factory.django.DjangoModelFactory):
    """A shop whose owner is also its owner member, as sellers.services creates it."""

    class Meta:
        model = "sellers.Shop"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")
    tagline = "Second-hand books and records"
    country = "GB"
    city = "Bristol"
    currency = "GBP"
    owner = factory.SubFactory(UserFactory)
    domestic_first_item = Decimal("3.00")
    domestic_additional_item = Decimal("1.00")
    international_first_item = Decimal("9.00")
    international_additional_item = Decimal("2.50")
    ships_to = ["NL", "DE", "FR"]

    @factory.post_generation
    def owner_membership(self, create, extracted, **kwargs):
        if create:
            from sellers.models import ShopMember

            ShopMember.objects.get_or_create(shop=self, user=self.owner, defaults={"role": ShopMember.Role.OWNER})


class ListingFactory(factory.django.DjangoModelFactory):
    """A listing saved directly, then indexed for search as the listing services do on commit."""

    class Meta:
        model = "catalog.Listing"
        skip_postgeneration_save = True

    shop = factory.SubFactory(ShopFactory)
    title = factory.Sequence(lambda n: f"A Field Guide to Lichens, volume {n}")
    creator = "Ada Moss"
    condition = factory.LazyFunction(lambda: Condition.objects.get(slug="good"))
    price = Decimal("12.50")
    currency = factory.LazyAttribute(lambda listing: listing.shop.currency)
    quantity = 1
    status = "active"
    published_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def search_index(self, create, extracted, **kwargs):
        if create:
            from catalog.search import reindex_listings

            reindex_listings(listing_ids=[self.pk])
