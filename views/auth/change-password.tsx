import { type Errors, NewPasswordFields, Notice, PostForm, TextField } from "../components/form";

export const CHANGE_PASSWORD_PATH = "/account/password";

/** The signed-in user's own password: the current one, then the new one twice. Nothing typed is ever put back. */
export function ChangePasswordPage(props: { email: string; csrf: string; errors: Errors; notice?: string }) {
  const { errors } = props;
  return (
    <section class="admin-area card form-page">
      <h1>Change your password</h1>
      <p class="muted">Signed in as {props.email}</p>
      <Notice text={props.notice} />
      <PostForm action={CHANGE_PASSWORD_PATH} csrf={props.csrf} errors={errors} submit="Change password" cancelHref="/">
        <TextField
          form="account"
          name="currentPassword"
          label="Current password"
          type="password"
          error={errors.currentPassword}
          required
          autocomplete="current-password"
        />
        <NewPasswordFields
          form="account"
          errors={errors}
          consequence="Every other session of yours ends; this one stays signed in."
        />
      </PostForm>
    </section>
  );
}
