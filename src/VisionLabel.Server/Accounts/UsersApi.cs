using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Accounts;

/// <summary>Instance admins manage accounts. (Members of a project are managed by its owners: Projects/MembersApi.)</summary>
public static class UsersApi
{
    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/api/users").WithTags("Users").WithBodyLimit(Limits.SmallJsonBody).RequireAdmin();
        users.MapGet("/", List);
        users.MapPost("/", Create);
        users.MapPatch("/{userId:guid}", Update).WithDescription("Make or unmake an admin, disable or enable, or set a new password (which ends the account's sessions).");
        return app;
    }

    private static async Task<Ok<List<UserDto>>> List(VisionLabelDb db, CancellationToken ct) =>
        TypedResults.Ok((await db.Users.AsNoTracking().OrderBy(u => u.UserName).ToListAsync(ct)).Select(UserDto.From).ToList());

    private static async Task<Results<Created<UserDto>, ValidationProblem>> Create(NewUserRequest request, Accounts accounts)
    {
        var (user, field, problem) = await accounts.CreateAsync(request.UserName, request.Email, request.Password, request.IsAdmin);
        return user is null ? Problems.Invalid(field!, problem!) : TypedResults.Created($"/api/users/{user.Id}", UserDto.From(user));
    }

    private static async Task<Results<Ok<UserDto>, ValidationProblem, ProblemHttpResult>> Update(Guid userId, UpdateUserRequest request, HttpContext context,
        UserManager<UserAccount> users, VisionLabelDb db, HubConnections connections)
    {
        if (await users.FindByIdAsync(userId.ToString()) is not { } user) return Problems.NotFound("User", userId);
        bool self = userId == context.Caller().UserId;
        if (self && (request.IsAdmin == false || request.Disabled == true))
            return Problems.Invalid(request.IsAdmin == false ? "isAdmin" : "disabled", "you cannot take away your own admin rights or disable yourself; ask another admin");
        if (request.Password is { } password)
        {
            string resetToken = await users.GeneratePasswordResetTokenAsync(user);
            var result = await users.ResetPasswordAsync(user, resetToken, password);
            if (!result.Succeeded) return Problems.Invalid("password", result.Errors.First().Description);
            await users.SetLockoutEndDateAsync(user, null);
        }
        if (request.IsAdmin is { } admin) user.IsAdmin = admin;
        if (request.Disabled is { } disabled) user.DisabledAt = disabled ? user.DisabledAt ?? DateTime.UtcNow : null;
        await users.UpdateSecurityStampAsync(user); // every session of the account is re-checked with its new rights
        if (user.DisabledAt is not null) await connections.CloseEverywhereAsync(new CloseRequest(userId, null, null));
        return TypedResults.Ok(UserDto.From(user));
    }
}
