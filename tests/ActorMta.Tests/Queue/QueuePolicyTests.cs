using ActorMta.Config;
using ActorMta.Protocol;
using ActorMta.Queue;
using static ActorMta.Tests.Queue.QueueFixtures;

namespace ActorMta.Tests.Queue;

/// <summary>Per-destination settings (actormta.delivery.destinations) as the queue applies them.</summary>
public sealed class QueuePolicyTests
{
    static readonly ActorMtaSettings XTest = ActorMtaSettings.From(ActorMtaConfiguration.FromText("""
        actormta.delivery.destinations."x.test" { max-age = 1d, port = 2525, require-tls = on }
        """));

    static readonly RecipientAddress RemoteX = new("bob@X.test", "bob@x.test", Remote: true);

    [Fact]
    public void a_remote_recipient_of_a_configured_destination_waits_at_most_its_maximum_age()
    {
        var policy = new QueuePolicy(XTest.Delivery, () => 0.5);

        Assert.Equal(TimeSpan.FromDays(1), policy.ScheduleFor(RemoteX).MaxAge);
        Assert.Equal(T0.AddDays(1), policy.ExpiresAt(RemoteX, T0));
    }

    [Fact]
    public void other_recipients_keep_the_default_schedule()
    {
        var policy = new QueuePolicy(XTest.Delivery, () => 0.5);
        var elsewhere = new RecipientAddress("bob@y.test", "bob@y.test", Remote: true);
        var subdomain = new RecipientAddress("bob@mx.x.test", "bob@mx.x.test", Remote: true);
        var local = new RecipientAddress("admin@example.test", "admin@example.test");

        Assert.All(new[] { elsewhere, subdomain, local }, r => Assert.Equal(XTest.Delivery.Default.Retry, policy.ScheduleFor(r)));
        Assert.Equal(T0.AddDays(5), policy.ExpiresAt(local, T0));
    }

    [Fact]
    public void a_destination_entry_named_like_a_local_domain_does_not_change_local_delivery()
    {
        // Local delivery never uses a destination's schedule, even under the same name.
        var settings = ActorMtaSettings.From(ActorMtaConfiguration.FromText("""actormta.delivery.destinations."example.test" { max-age = 1h }"""));
        var policy = new QueuePolicy(settings.Delivery, () => 0.5);

        Assert.Equal(TimeSpan.FromDays(5), policy.ScheduleFor(new RecipientAddress("admin@example.test", "admin@example.test")).MaxAge);
    }

    [Fact]
    public void retries_of_a_remote_recipient_follow_its_destinations_schedule()
    {
        var state = Accepted("someone@slow.test", "someone@foreign.test").Defer(0, T0, Refused).Defer(1, T0, Refused);

        Assert.Equal(T0.AddMinutes(30), state.Recipients[0].NextAttemptAt);
        Assert.Equal(T0.AddMinutes(5), state.Recipients[1].NextAttemptAt);
    }

    [Fact]
    public void the_policy_draws_a_fresh_chance_for_every_retry()
    {
        var chances = new Queue<double>([0.0, 0.999]);
        var policy = new QueuePolicy(Settings.Delivery, chances.Dequeue);
        var recipient = new RecipientAddress("bob@y.test", "bob@y.test", Remote: true);

        var early = policy.NextAttempt(recipient, 3, T0);
        var late = policy.NextAttempt(recipient, 3, T0);

        Assert.Equal(T0.AddMinutes(17), early);
        Assert.True(late > T0.AddMinutes(22.9), $"{late}");
        Assert.Empty(chances);
    }
}
