export function SignInPage({ next, email, error }: { next: string; email?: string; error?: string }) {
  return (
    <section class="card narrow">
      <h1>Sign in to AlloyScan</h1>
      {error ? (
        <p class="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <form method="post" action="/sign-in" class="stacked">
        <input type="hidden" name="next" value={next} />
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required value={email ?? ""} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </section>
  );
}
