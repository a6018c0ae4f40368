(* No kink neuron => f differentiable (THEORY.md sections 4 and 6, Counting
   (T2): "ndf_M(f) is inside { w : K(w) <> {} }").  Expressions are
   differentiable in the parameters when the neuron outputs they read are;
   every y_k and z_k is differentiable at w when no y_k(w) is a kink of
   sigma_k (chain rule with ActDiff.v), by induction over the neurons. *)
From Coq Require Import Reals Lra Lia List Arith.
From Coquelicot Require Import Coquelicot.
From ADCorrect Require Import Vec Activation ActDiff Frechet Network.
Import ListNotations.
Open Scope R_scope.

(** * Rules for [differentiable] (gradient left implicit) *)

Lemma differentiable_const W c w : differentiable W (fun _ => c) w.
Proof. eexists; apply differentiable_at_const. Qed.

Lemma differentiable_coord W p w : (p < W)%nat -> differentiable W (fun v => v p) w.
Proof. intros Hp; eexists; now apply differentiable_at_coord. Qed.

Lemma differentiable_plus W f g w :
  differentiable W f w -> differentiable W g w -> differentiable W (fun v => f v + g v) w.
Proof. intros [gf Hf] [gg Hg]; exists (vadd gf gg); now apply differentiable_at_plus. Qed.

Lemma differentiable_mult W f g w :
  differentiable W f w -> differentiable W g w -> differentiable W (fun v => f v * g v) w.
Proof. intros [gf Hf] [gg Hg]; exists (vadd (vscale (f w) gg) (vscale (g w) gf)); now apply differentiable_at_mult. Qed.

Lemma differentiable_ext W f f' w :
  (forall v, f' v = f v) -> differentiable W f w -> differentiable W f' w.
Proof. intros Heq [g Hf]; exists g; exact (differentiable_at_ext W f f' w g Heq Hf). Qed.

Lemma differentiable_comp_is_derive W (phi : R -> R) f w d :
  is_derive phi (f w) d -> differentiable W f w -> differentiable W (fun v => phi (f v)) w.
Proof. intros Hphi [g Hf]; eexists; exact (differentiable_at_comp_is_derive W phi f w g d Hphi Hf). Qed.

(** * Expressions *)

(* an expression whose parameters are below W, read at neuron outputs Z v
   that are differentiable at w, is differentiable at w *)
Lemma eval_differentiable (W : nat) (x : nat -> R) (Z : vec -> nat -> R) (w : vec) (e : expr) :
  params_below W e ->
  (forall j, occurs_neuron j e -> differentiable W (fun v => Z v j) w) ->
  differentiable W (fun v => eval x v (Z v) e) w.
Proof.
  unfold params_below; induction e as [r|p|i|j|e1 IH1 e2 IH2|e1 IH1 e2 IH2];
    simpl; intros Hp Hz.
  - apply differentiable_const.
  - apply differentiable_coord, Hp; reflexivity.
  - apply differentiable_const.
  - apply Hz; reflexivity.
  - apply differentiable_plus; [apply IH1|apply IH2]; auto.
  - apply differentiable_mult; [apply IH1|apply IH2]; auto.
Qed.

(** * Neurons *)

Section NoKink.
Variable net : network.
Hypothesis Hwf : wf net.
Let W := n_params net.

(* z_j is differentiable at w for every j < k, when no neuron below k is kinked *)
Lemma post_differentiable_below (w : vec) (k : nat) :
  (forall j, (j < k)%nat -> (j < n_size net)%nat -> ~ is_kink (sigma net j) (preact net w j)) ->
  forall j, (j < k)%nat -> (j < n_size net)%nat -> differentiable W (fun v => post net v j) w.
Proof.
  induction k as [|k IH]; intros Hk j Hj Hjn; [lia|].
  destruct (Nat.eq_dec j k) as [->|Hne]; [|apply IH; auto; lia].
  destruct (proj1 Hwf k Hjn) as [Hnb Hpb].
  unfold post; apply (differentiable_comp_is_derive W _ (fun v => preact net v k) w
                        (slope_left (sigma net k) (preact net w k))).
  - apply act_is_derive_not_kink, Hk; lia.
  - unfold preact; apply eval_differentiable; [exact Hpb|].
    intros i Hi; specialize (Hnb i Hi).
    apply (differentiable_ext W (fun v => post net v i)); [intros v; now apply zvals_lt|].
    apply IH; auto; lia.
Qed.

Lemma kink_neurons_nil_not_kink (w : vec) (k : nat) :
  kink_neurons net w = [] -> (k < n_size net)%nat -> ~ is_kink (sigma net k) (preact net w k).
Proof.
  intros Hnil Hk Hkink.
  assert (Hin : In k (kink_neurons net w)) by (apply kink_neurons_spec; auto).
  rewrite Hnil in Hin; destruct Hin.
Qed.

Lemma no_kink_post_differentiable (w : vec) (k : nat) :
  kink_neurons net w = [] -> (k < n_size net)%nat ->
  differentiable W (fun v => post net v k) w.
Proof.
  intros Hnil Hk; apply (post_differentiable_below w (n_size net)); auto.
  intros j _ Hj; now apply kink_neurons_nil_not_kink.
Qed.

Lemma no_kink_preact_differentiable (w : vec) (k : nat) :
  kink_neurons net w = [] -> (k < n_size net)%nat ->
  differentiable W (fun v => preact net v k) w.
Proof.
  intros Hnil Hk; destruct (proj1 Hwf k Hk) as [Hnb Hpb].
  unfold preact; apply eval_differentiable; [exact Hpb|].
  intros i Hi; specialize (Hnb i Hi).
  apply (differentiable_ext W (fun v => post net v i)); [intros v; now apply zvals_lt|].
  apply no_kink_post_differentiable; auto; lia.
Qed.

(* THEORY.md section 6, Counting: K(w) = {} => f differentiable at w *)
Theorem no_kink_differentiable (w : vec) :
  kink_neurons net w = [] -> differentiable (n_params net) (net_eval net) w.
Proof.
  intros Hnil; destruct Hwf as (_ & Hnb & Hpb).
  unfold net_eval; apply eval_differentiable; [exact Hpb|].
  intros i Hi; specialize (Hnb i Hi).
  apply (differentiable_ext W (fun v => post net v i)); [intros v; now apply zvec_lt|].
  now apply no_kink_post_differentiable.
Qed.

(* contrapositive: ndf points have a kink neuron *)
Corollary not_differentiable_kink (w : vec) :
  ~ differentiable (n_params net) (net_eval net) w -> kink_neurons net w <> [].
Proof. intros Hnd Hnil; apply Hnd, no_kink_differentiable, Hnil. Qed.

End NoKink.
